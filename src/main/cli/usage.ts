/** `openexec --help`: every command, its options and what its exit codes mean. */
export const USAGE = `usage: openexec <command> [options]

commands:
  status                              mode, keys, counts and warnings of the running server
  pending                             proposals waiting for a decision (payload first, then the
                                      agent's context; anything cut says how many bytes it hides)
  show ID                             one proposal whole: action, full payload, request hash,
                                      expiry, then the agent's context
  approve ID                          sign an approval for exactly that proposal and execute it
  approve ID --for 15m | --uses 5 | --until-restart [--vary FIELD …] [--reason "..."]
                                      approve it once, then sign a grant: requests like it (every
                                      payload field fixed except each --vary FIELD, which keeps its
                                      JSON type) run without a new decision within the limit
  grants [--all]                      live grants (--all: also ended ones) with uses and time left
  revoke GRANT_ID [--reason "..."]    end a grant now (witnessed in the ledger)
  approve ID --as NAME                approve with operator NAME's key (actions that need a quorum)
  operators add NAME                  make another operator key (operators/NAME.pem in the data
                                      directory; the server loads it at its next start)
  deny ID --reason "..."              deny a proposal (the reason goes into the ledger)
  allow ACTION | disallow ACTION      change the allow-list (refused when the environment fixes it)
  receipts [--search TEXT] [--event E[,E]] [--action A] [--limit N]
                                      search the ledger, newest first
  agents add NAME | list | revoke NAME
                                      register an agent (its token is printed once; only its hash
                                      is kept), list agents, or revoke one's token at once
  mcp serve [--name NAME]             the MCP gateway on stdio (allowed actions as tools, each call a
                                      proposal), relayed to the running OpenExec's /mcp as the agent
                                      in OPENEXEC_AGENT_TOKEN (OPENEXEC_URL or server.json); with
                                      --name, the upstream the server hosts at /mcp/NAME
  mcp proxy --name NAME [--url URL] [-- COMMAND ARGS…]
                                      an upstream MCP server behind the boundary: its tool definitions
                                      pinned, every call a proposal for mcp:NAME/TOOL, forwarded once
  mcp accept mcp:NAME/TOOL            accept an upstream tool's changed definition (config receipt)
  hook claude-code                    Claude Code's command hook: reads the hook input on stdin, asks
                                      the running OpenExec as the agent in OPENEXEC_AGENT_TOKEN
                                      (OPENEXEC_URL or server.json), prints its decision; exits 2
                                      on any failure so that the tool call is blocked
  verify-ledger [--public-key FILE] [--key-id ID] [--checkpoint FILE|DIR] [--expect-head SEQ:HASH]
                [--approver-key FILE]... [--workers N]
                                      walk the whole receipt chain offline; report the first bad receipt;
                                      check the side tables, approval evidence, that the ledger extends
                                      saved checkpoints and still holds the head you recorded;
                                      signatures are checked on every core (--workers N to choose)
  verify-ledger --db-url postgresql://USER@HOST:PORT/DB [--key-id ID]... [--checkpoint FILE|DIR]
                [--expect-head SEQ:HASH] [--approver-key FILE]... [--workers N]
                                      the same for a PostgreSQL ledger (or OPENEXEC_DB_URL=postgresql://…;
                                      the password from the URL or PGPASSWORD): every receipt
                                      signed by a key the ledger registered before it, --key-id once per
                                      instance to pin them, and the stored Merkle tree checked too
  checkpoint [--out FILE]             sign a checkpoint of the ledger now (C2SP tlog-checkpoint note)
  prove SEQ [--size N] [--public-key FILE] [--key-id ID]
                                      fetch and check a receipt's inclusion proof against the latest checkpoint
  export --out FILE [--search TEXT] [--event E[,E]] [--action A] [--approver-key-id ID]
         [--from TIME] [--to TIME] [--from-seq N] [--to-seq M]
                                      write a receipt bundle (the window's Export, byte for byte)
  verify-bundle FILE [--public-key FILE | --key-id ID] [--approver-key FILE]...
                                      check a bundle offline: signatures, hashes, links, checkpoint,
                                      inclusion proofs, results and approval evidence
  demo [--auto] [--step] [--headless] [--data-dir DIR] [--scenario FILE]
                                      start OpenExec on a fresh ledger and play a scripted agent against it
  db migrate --db-url postgresql://OWNER@HOST:PORT/DB --app-role ROLE
                                      bring a PostgreSQL database to this version's schema as its owner
                                      (once per upgrade, before the servers start) and grant ROLE, the
                                      role OpenExec connects as, only what it needs
  doctor                              the production hardening checklist, checked (exit 1 when an item fails)
  backup --out FILE                   an online copy of the database, verified and recorded in the ledger
                                      (SQLite; a PostgreSQL ledger is backed up with pg_dump or the server's own backups)
  purge --older-than DURATION         remove payloads, contexts and results older than 12h, 90d, 8w, …;
                                      every receipt still verifies, and the purge is itself a receipt
  executions close-orphans --reserved-by KEYID
                                      PostgreSQL: close as interrupted (a receipt each, signed here) the
                                      executions an instance gone for good (receipt key KEYID) left
                                      running; refused while it is connected; a config receipt records it

Every verdict names the receipt key it trusted and where it came from. Pin the key id you got
out of band with --key-id: a key found beside the ledger or inside a bundle proves nothing alone.
--public-key takes PEM or the JSON of GET /receipts/public-key. Exit 3: something does not verify.

The server is found through OPENEXEC_DATA_DIR (default ~/.openexec): its address and console
token are files there. The token is sent only after the server has proved it knows it.
Control, bidi and invisible characters in what agents wrote are shown as escapes (\x1b, \u202e).

options:
  --json      machine-readable output
  --help      this text`;
