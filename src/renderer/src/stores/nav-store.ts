import { create } from 'zustand';

export const VIEWS = ['pending', 'approvals', 'grants', 'allow-list', 'tools', 'ledger', 'status'] as const;
export type View = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<View, string> = {
  pending: 'Pending',
  approvals: 'Approvals',
  grants: 'Grants',
  'allow-list': 'Actions',
  tools: 'MCP tools',
  ledger: 'Ledger',
  status: 'Status',
};

interface NavState {
  view: View;
  show: (view: View) => void;
}

export const useNavStore = create<NavState>((set) => ({
  view: 'pending',
  show: (view) => set({ view }),
}));
