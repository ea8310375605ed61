/** Help texts. Kept apart from the commands so that `--help` loads nothing else. */

export const MAIN_HELP = `Usage: trustgate <command> [options]

Offline Docker Content Trust (Notary v1) verification of cached trust data.

Commands:
  verify <image-ref>...    Check that each image's tag (or digest) is signed, offline
  inspect <image-ref>...   Show signed tags, signers and keys, like "docker trust inspect"
  check <image-ref>        Decide whether an image may be used under an admission policy
  admission serve          Run the Kubernetes admission webhook (HTTPS)
  fetch <image-ref>...     Update the trust cache from the notary server, verified first
  mirror --from URL --to DIR <gun>...  Copy verified trust data into DIR for air-gapped use
  gateway --upstream URL   Serve a registry whose pushes stay hidden until scanned

Options:
  -h, --help               Show this help (or "trustgate <command> --help")
  -v, --version            Print the version

Exit codes: 0 every image verified (check: allowed), 1 at least one image is not
trusted (check: denied), 2 usage or input error (bad flag, bad reference, a trust
directory named by --trust-dir or DOCKER_CONFIG that is missing or unreadable).
`;

export const VERIFY_HELP = `Usage: trustgate verify <image-ref>... [options]

Verifies the cached trust data of each image, offline, and resolves its tag to a signed digest.
An image reference is normalised as docker does: "alpine" is docker.io/library/alpine:latest;
"name@sha256:<hex>" checks that the digest is signed under some tag.

Options:
  --trust-dir DIR          Trust directory (default: $DOCKER_CONFIG/trust, else ~/.docker/trust)
  --now RFC3339            Judge expiry at this instant instead of the current time
                           (e.g. 2026-11-27T02:30:55Z)
  --json                   Print one JSON document: {"ok": boolean, "results": [...]}
  --role ROLE              Role priority list, repeatable (like "notary list --roles");
                           default: docker's order, targets/releases then targets
  --any-role               Accept a signature from any targets role (notary's lookup)
  --pin-root KEYID         Require the root to be one of these key IDs, repeatable
  --mode MODE              strict (default; what notary does offline) or online-equivalent
                           (drop delegations that fail only on expiry or threshold;
                           --json lists them in "skipped")
  --online                 Fetch from the notary server first (as "trustgate fetch"; takes its
                           --server, --config, --state-dir, --tls-ca, --timeout, --deadline,
                           --allow-stale)
  --state-dir DIR          Trusted-state records of trustgate fetch; offline too, a GUN's record
                           is the version floor (default: $XDG_STATE_HOME/trustgate)
  -h, --help               Show this help

Exit codes: 0 every image verified, 1 at least one image is not trusted,
2 usage or input error (bad flag, bad reference, a trust directory named by
--trust-dir or DOCKER_CONFIG that is missing or unreadable).
`;

export const INSPECT_HELP = `Usage: trustgate inspect <image-ref>... [options]

Offline equivalent of "docker trust inspect": signed tags with digests and signers, the
signers' keys, and the administrative (root and repository) keys. Without a tag every signed
tag is listed.

Options:
  --trust-dir DIR          Trust directory (default: $DOCKER_CONFIG/trust, else ~/.docker/trust)
  --now RFC3339            Judge expiry at this instant instead of the current time
  --pretty                 Print tables instead of JSON
  -h, --help               Show this help

Exit codes: 0 every image inspected, 1 trust data missing or not valid for at least one image,
2 usage or input error.
`;

export const CHECK_HELP = `Usage: trustgate check <image-ref> --policy FILE [options]

Decides whether one image may be used under an admission policy (JSON): content trust, signer
roles, root pins, metadata age, dry-run and break-glass. For a pre-pull hook: pull by the digest
it prints, not by the tag.

Options:
  --policy FILE            The admission policy (JSON), required
  --trust-dir DIR          Trust directory (default: $DOCKER_CONFIG/trust, else ~/.docker/trust)
  --now RFC3339            Decide at this instant instead of the current time
  --json                   Print the decision object as JSON
  --principal ID           Who will pull (recorded in the decision)
  --break-glass REASON     Set the policy's break-glass annotation to REASON
  --state-dir DIR          Trusted-state records of trustgate fetch, the version floor
                           (default: $XDG_STATE_HOME/trustgate, else ~/.local/state/trustgate)
  --quarantine-url URL     Registry answering GET /acr/v1/<repo>/_manifests/<digest>, for rules
                           with requireQuarantineVisible (without it such a policy is exit 2)
  --quarantine-credentials FILE  JSON {"token": ...} or {"username": ..., "password": ...}
  --quarantine-timeout-ms N      Time allowed per question (default 2000; no answer: denied)
  -h, --help               Show this help

Exit codes: 0 allowed (also dry-run and break-glass), 1 denied, 2 usage or input error.
`;

export const ADMISSION_SERVE_HELP = `Usage: trustgate admission serve --policy FILE --tls-cert FILE --tls-key FILE [options]

Serves the Kubernetes admission webhook over HTTPS: POST /validate (ValidatingWebhook),
POST /mutate (MutatingWebhook: pins images to name@sha256:...), GET /healthz (alive),
GET /readyz (ready to decide), GET /metrics (Prometheus). Logs one JSON line per image
decision on stdout. SIGHUP, or a change to the policy or TLS files, reloads them; SIGTERM
drains reviews in flight and exits 0.

Options:
  --policy FILE            The admission policy (JSON), required
  --tls-cert FILE          PEM certificate chain, required
  --tls-key FILE           PEM private key, required
  --port N                 Port (default 8443; 0 picks a free one)
  --host ADDR              Address to bind (default 0.0.0.0)
  --now RFC3339            Decide every request at this instant (recorded data, tests);
                           default: the time each request arrives
  --trust-dir DIR          Trust directory (default: $DOCKER_CONFIG/trust, else ~/.docker/trust)
  --state-dir DIR          Trusted-state records of trustgate fetch, the version floor
                           (default: $XDG_STATE_HOME/trustgate, else ~/.local/state/trustgate)
  --max-body-bytes N       Largest request body (default 7 MiB)
  --timeout-ms N           Time allowed per request (default 9000)
  --online                 Fetch trust data from the notary server (also: policy "online": true)
  --server URL             Notary server (default: $DOCKER_CONTENT_TRUST_SERVER, the config
                           file's entry for the registry, docker's choice)
  --config FILE            Servers per registry, as for "trustgate fetch"
  --tls-ca FILE            Extra CA certificates for the notary server
  --timeout DURATION       Per notary request
  --deadline DURATION      A review waiting for a fetch is answered within it, below
                           --timeout-ms (default: 1 s less, at most 5s); the fetch gets it
                           less 10% (at most 100 ms) and missing that is ERR_FETCH_TIMEOUT
  --allow-stale DURATION   Serve the last verified data up to this age when the server cannot
                           be asked (default 5m)
  --trust-ttl DURATION     Serve fetched data this long before asking again (default 60s)
  --workers N              Verifier worker threads, one GUN per worker (default: cores - 1,
                           1 to 4); 0 verifies in the server's own thread
  --quarantine-url URL     Registry answering GET /acr/v1/<repo>/_manifests/<digest>, for rules
                           with requireQuarantineVisible
  --quarantine-credentials FILE  JSON {"token": ...} or {"username": ..., "password": ...}
  --quarantine-timeout-ms N      Time allowed per question (default 2000; no answer: denied)
  -h, --help               Show this help

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 cannot listen, 2 usage or input error.
`;

export const GATEWAY_HELP = `Usage: trustgate gateway --upstream URL --config FILE [options]

Serves the OCI distribution API in front of an upstream registry, with the quarantine state
machine in between: a pushed manifest stays hidden from ordinary pullers (by tag, digest, blob,
tag list, catalog and referrers) until its scanners pass it through ACR's quarantine REST
(PATCH /acr/v1/<repo>/_manifests/<digest>). Tags belong to the gateway; the upstream is written
by digest only. Logs one JSON line when listening.

Options:
  --upstream URL           The upstream registry (http:// or https://), required
  --config FILE            Users, roles, anonymous pull, quarantine policy and webhooks (JSON),
                           required
  --listen HOST:PORT       Address to serve on (default 127.0.0.1:5000; port 0 picks a free one)
  --data-dir DIR           Where the embedded store (PGlite) keeps state across restarts
                           (default ./trustgate-data)
  --store URL              PostgreSQL shared by gateway replicas (postgres://user:pass@host/db)
  --tls-cert FILE          PEM certificate chain: serve HTTPS (with --tls-key)
  --tls-key FILE           PEM private key
  -h, --help               Show this help

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 cannot listen, 2 usage or input error (bad flag,
unreadable or invalid config, the config error names the field).
`;
