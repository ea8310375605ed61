#!/usr/bin/env bash
# Mints fresh Docker Content Trust data with the real Notary (Debian package `notary` 0.7.0) and
# records what the real client answers about it, for test/interop/live-notary.test.ts.
#
#   scripts/interop/mint.sh OUT_DIR
#
# Starts, on 127.0.0.1 only and on free ports:
#   * notary-signer (gRPC over TLS, throw-away openssl CA, cert with subjectAltName=IP:127.0.0.1),
#   * notary-server "local"  (plain HTTP, memory storage, local trust service: ed25519 server keys),
#   * notary-server "remote" (plain HTTP, memory storage, trust service = the signer: ecdsa keys),
# creates repositories with the notary CLI (own trust dir per repository, fixed passphrases, empty
# client config): basic, deleg, rootrot, tgtrot, srvsnap, rsa, hub (on "remote"), edge, delrm,
# delrm-last (see the comment above each). For each it refreshes the cache once online, then asks
# notary offline (server = closed port 127.0.0.1:1) `list`, `list --roles targets/releases --roles
# targets` and `lookup` for every tag, and writes OUT_DIR/repos/<name>/oracle.json. Tampered copies
# go to OUT_DIR/tamper/<case>/{trust,result.json} with what notary says offline about them.
# OUT_DIR/manifest.json lists both; OUT_DIR/_run/ holds configs, logs, PIDs, TLS files, keys.
#
# Needs: notary, notary-server, notary-signer (Debian package notary), openssl, node.
#
# Only the processes started here are stopped (by PID, in the EXIT trap). Re-running into the same
# OUT_DIR replaces its contents (the directory must be empty, new, or made by this script).
set -Eeuo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOL="$HERE/notary-tool.mjs"
MARKER=".trustgate-interop-mint"

for bin in notary notary-server notary-signer openssl node; do
  command -v "$bin" >/dev/null || { echo "mint.sh: $bin not found on PATH (Debian: apt-get install -y notary openssl)" >&2; exit 3; }
done

mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
if [[ -n "$(ls -A "$OUT")" ]]; then
  if [[ ! -f "$OUT/$MARKER" ]]; then
    echo "mint.sh: $OUT is not empty and was not made by this script; refusing to clear it" >&2
    exit 2
  fi
  find "$OUT" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
fi
touch "$OUT/$MARKER"

RUN="$OUT/_run"
mkdir -p "$RUN/tls" "$RUN/keys" "$RUN/home" "$RUN/files" "$OUT/repos" "$OUT/tamper"
STARTED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- process bookkeeping: only what we start, by PID ----------------------------------------------
PIDS=()
cleanup() {
  local rc=$?
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "mint.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the client's environment ---------------------------------------------------------------------
export HOME="$RUN/home"
export NOTARY_ROOT_PASSPHRASE="interop-root-passphrase"
export NOTARY_TARGETS_PASSPHRASE="interop-targets-passphrase"
export NOTARY_SNAPSHOT_PASSPHRASE="interop-snapshot-passphrase"
export NOTARY_DELEGATION_PASSPHRASE="interop-delegation-passphrase"
CLIENT_CONFIG="$RUN/client.json"
echo '{}' >"$CLIENT_CONFIG"
OFFLINE_URL="http://127.0.0.1:1"

{
  echo "notary: $(notary version 2>&1 | tr '\n' ' ')"
  echo "notary-server: $(notary-server -version 2>&1 | tr '\n' ' ')"
  echo "notary-signer: $(notary-signer -version 2>&1 | tr '\n' ' ')"
  echo "openssl: $(openssl version)"
  echo "node: $(node --version)"
  if command -v dpkg-query >/dev/null; then echo "dpkg: $(dpkg-query -W notary 2>/dev/null || true)"; fi
} >"$RUN/versions.txt"

free_port() { node "$TOOL" free-port; }

# --- throw-away TLS for the signer ----------------------------------------------------------------
TLS="$RUN/tls"
# openssl is quiet unless it fails; its chatter goes to _run/openssl.log.
ossl() { openssl "$@" 2>>"$RUN/openssl.log"; }
ossl ecparam -name prime256v1 -genkey -noout -out "$TLS/ca.key"
ossl req -x509 -new -key "$TLS/ca.key" -sha256 -days 2 -subj "/CN=trustgate interop throw-away CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$TLS/ca.crt"
ossl ecparam -name prime256v1 -genkey -noout -out "$TLS/signer.key"
ossl req -new -key "$TLS/signer.key" -subj "/CN=notary-signer" -out "$TLS/signer.csr"
printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$TLS/signer.ext"
ossl x509 -req -in "$TLS/signer.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
  -days 2 -sha256 -extfile "$TLS/signer.ext" -out "$TLS/signer.crt"

# start_daemon NAME KIND: picks a port, renders the config, starts, waits; retries on a port race.
# Sets ${NAME}_PORT.
start_daemon() {
  local name="$1" kind="$2" attempt port pid cfg log
  for attempt in 1 2 3; do
    port="$(free_port)"
    cfg="$RUN/$name.json"
    log="$RUN/$name.log"
    case "$kind" in
      signer)
        cat >"$cfg" <<EOF
{"server":{"grpc_addr":"127.0.0.1:$port","tls_cert_file":"$TLS/signer.crt","tls_key_file":"$TLS/signer.key"},
 "logging":{"level":"info"},"storage":{"backend":"memory"}}
EOF
        notary-signer -config "$cfg" >"$log" 2>&1 &
        ;;
      server-local)
        cat >"$cfg" <<EOF
{"server":{"http_addr":"127.0.0.1:$port"},"trust_service":{"type":"local"},
 "logging":{"level":"info"},"storage":{"backend":"memory"}}
EOF
        notary-server -config "$cfg" >"$log" 2>&1 &
        ;;
      server-remote)
        cat >"$cfg" <<EOF
{"server":{"http_addr":"127.0.0.1:$port"},
 "trust_service":{"type":"remote","hostname":"127.0.0.1","port":"$signer_PORT","tls_ca_file":"$TLS/ca.crt","key_algorithm":"ecdsa"},
 "logging":{"level":"info"},"storage":{"backend":"memory"}}
EOF
        notary-server -config "$cfg" >"$log" 2>&1 &
        ;;
    esac
    pid=$!
    PIDS+=("$pid")
    echo "$pid" >"$RUN/$name.pid"
    local ok=0
    if [[ "$kind" == signer ]]; then
      node "$TOOL" wait-tcp "$port" 20 && ok=1
    else
      node "$TOOL" wait-http "http://127.0.0.1:$port/_notary_server/health" 20 && ok=1
    fi
    if [[ $ok == 1 ]] && kill -0 "$pid" 2>/dev/null; then
      printf -v "${name}_PORT" '%s' "$port"
      echo "$name: pid $pid on 127.0.0.1:$port" >>"$RUN/daemons.txt"
      return 0
    fi
    echo "mint.sh: $name did not come up on port $port (attempt $attempt); log:" >&2
    tail -n 20 "$log" >&2 || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "mint.sh: giving up on $name" >&2
  return 1
}

start_daemon signer signer
start_daemon local server-local
start_daemon remote server-remote
LOCAL_URL="http://127.0.0.1:$local_PORT"
REMOTE_URL="http://127.0.0.1:$remote_PORT"

# --- keys and certificates made with openssl (notary cannot make delegation keys itself) ----------
KEYS="$RUN/keys"
ec_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEYS/$1.key"; }
rsa_key() { ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/$1.key"; }
pub_pem() { ossl pkey -in "$KEYS/$1.key" -pubout -out "$KEYS/$1.pub"; }
# A leaf certificate (CA:FALSE) as notary wants for x509 delegation keys.
leaf_cert() {
  ossl req -x509 -new -key "$KEYS/$1.key" -sha256 -days 365 -subj "/CN=${2//\//\\/}" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=codeSigning" -out "$KEYS/$1.crt"
}
ec_key releases && leaf_cert releases "targets/releases"
ec_key alice && pub_pem alice
ec_key qa && pub_pem qa
ec_key hubdeleg && pub_pem hubdeleg
ec_key hubextra && pub_pem hubextra
ec_key old && pub_pem old
rsa_key rsaroot
# notary imports only encrypted PKCS#8 root keys, and always derives with PBKDF2-HMAC-SHA1.
ossl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA1 -in "$KEYS/rsaroot.key" \
  -passout env:NOTARY_ROOT_PASSPHRASE -out "$KEYS/rsaroot.p8"
rsa_key rsatargets
rsa_key rsareleases && leaf_cert rsareleases "targets/releases"

# --- target contents (known bytes) ----------------------------------------------------------------
FILES="$RUN/files"
mk_file() { printf '%s\n' "$2" >"$FILES/$1"; }
mk_file v1 "interop release one"
mk_file v2 "interop release two"
mk_file v3 "interop release three"
mk_file shared-top "shared, as signed by targets"
mk_file shared-rel "shared, as signed by targets/releases"
mk_file alice "alice's build"
mk_file qa "qa build"
mk_file both-alice "alice-both, as signed by targets/alice"
mk_file both-qa "alice-both, as signed by targets/releases/qa"
mk_file gone "removed before the second publish"
: >"$FILES/empty"
head -c $((1024 * 1024 + 3)) /dev/zero | tr '\0' 'x' >"$FILES/big"
printf '%s' '{"a":1,"k":"v"}' >"$FILES/custom.json" # --custom must already be canonical JSON
sha256_of() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
sha512_of() { openssl dgst -sha512 -r "$1" | cut -d' ' -f1; }
size_of() { wc -c <"$1" | tr -d ' '; }

# --- running the client ---------------------------------------------------------------------------
REPO="" GUN="" TRUST="" URL="" LOG=""
# begin_repo NAME GUN URL
begin_repo() {
  REPO="$1" GUN="$2" URL="$3"
  mkdir -p "$OUT/repos/$REPO/trust"
  TRUST="$OUT/repos/$REPO/trust"
  LOG="$OUT/repos/$REPO/commands.log"
  : >"$LOG"
  TAGS=()
}
# n ARGS...: notary against this repository's server, logged; fails the script on a non-zero exit.
n() {
  local rc=0
  {
    printf '$ notary'
    printf ' %q' "$@"
    printf '\n'
  } >>"$LOG"
  notary -c "$CLIENT_CONFIG" -d "$TRUST" -s "$URL" "$@" >>"$LOG" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "mint.sh: [$REPO] notary $* exited $rc; log tail:" >&2
    tail -n 15 "$LOG" >&2
    return "$rc"
  fi
}
# key rotate ... root asks yes/no on stdin and exits 0 when it aborts: feed "yes" and check the log.
rotate_root() {
  local before
  before=$(wc -l <"$LOG")
  echo yes | n key rotate "$GUN" root
  if ! tail -n +"$((before + 1))" "$LOG" | grep -q "Successfully rotated root key"; then
    echo "mint.sh: [$REPO] root rotation did not happen; log tail:" >&2
    tail -n 15 "$LOG" >&2
    return 1
  fi
}
tag() { TAGS+=("$@"); }
finish_repo() {
  local args=() t
  for t in "${TAGS[@]}"; do args+=(--tag "$t"); done
  node "$TOOL" oracle --out "$OUT/repos/$REPO/oracle.json" --name "$REPO" --gun "$GUN" --trust "$TRUST" \
    --config "$CLIENT_CONFIG" --online "$URL" --offline "$OFFLINE_URL" "${args[@]}"
  REPOS+=("$REPO")
}
REPOS=()

# basic: add and addhash (sha256+sha512 and sha256 only), an empty target, a removed tag, two publishes.
begin_repo basic docker.io/interop/basic "$LOCAL_URL"
n init "$GUN"
n add "$GUN" v1 "$FILES/v1"
n addhash "$GUN" v2 "$(size_of "$FILES/v2")" --sha256 "$(sha256_of "$FILES/v2")" --sha512 "$(sha512_of "$FILES/v2")"
n add "$GUN" gone "$FILES/gone"
n add "$GUN" empty "$FILES/empty"
n publish "$GUN"
n add "$GUN" latest "$FILES/v2"
n addhash "$GUN" sha-only "$(size_of "$FILES/v3")" --sha256 "$(sha256_of "$FILES/v3")"
n remove "$GUN" gone
n publish "$GUN"
tag v1 v2 latest sha-only empty gone
finish_repo

# deleg: x509-cert delegation with --all-paths, PUBLIC KEY delegation with --paths, a nested one.
# alice-both is signed by targets/alice and by targets/releases/qa (whose paths allow it too): a
# breadth-first walk answers targets/alice, a depth-first one targets/releases/qa.
begin_repo deleg docker.io/interop/deleg "$LOCAL_URL"
n init "$GUN"
n add "$GUN" latest "$FILES/v3"
n add "$GUN" shared "$FILES/shared-top"
n publish "$GUN"
n delegation add "$GUN" targets/releases "$KEYS/releases.crt" --all-paths
n delegation add "$GUN" targets/alice "$KEYS/alice.pub" --paths alice-
n publish "$GUN"
n key import "$KEYS/releases.key" --role targets/releases
n key import "$KEYS/alice.key" --role targets/alice
n key import "$KEYS/qa.key" --role targets/releases/qa
n add "$GUN" v1 "$FILES/v1" --roles targets/releases
n add "$GUN" v2 "$FILES/v2" --roles targets/releases
n add "$GUN" shared "$FILES/shared-rel" --roles targets/releases
n add "$GUN" alice-1 "$FILES/alice" --roles targets/alice
n delegation add "$GUN" targets/releases/qa "$KEYS/qa.pub" --paths qa- --paths alice-both
n publish "$GUN"
n add "$GUN" qa-1 "$FILES/qa" --roles targets/releases/qa
n add "$GUN" alice-both "$FILES/both-qa" --roles targets/releases/qa
n add "$GUN" alice-both "$FILES/both-alice" --roles targets/alice
n publish "$GUN"
tag latest shared v1 v2 alice-1 qa-1 alice-both
finish_repo

# rootrot: two root rotations (the new root is signed by the new and the previous key), tags between.
begin_repo rootrot docker.io/interop/rootrot "$LOCAL_URL"
n init "$GUN"
n add "$GUN" v1 "$FILES/v1"
n publish "$GUN"
rotate_root
n add "$GUN" v2 "$FILES/v2"
n publish "$GUN"
rotate_root
n add "$GUN" v3 "$FILES/v3"
n publish "$GUN"
tag v1 v2 v3
finish_repo

# tgtrot: targets key rotated by the client.
begin_repo tgtrot docker.io/interop/tgtrot "$LOCAL_URL"
n init "$GUN"
n add "$GUN" v1 "$FILES/v1"
n publish "$GUN"
n key rotate "$GUN" targets
n add "$GUN" v2 "$FILES/v2"
n publish "$GUN"
tag v1 v2
finish_repo

# srvsnap: snapshot (and timestamp) keys owned by the server (local trust service: ed25519).
begin_repo srvsnap docker.io/interop/srvsnap "$LOCAL_URL"
n init "$GUN"
n add "$GUN" v1 "$FILES/v1"
n publish "$GUN"
n key rotate "$GUN" snapshot -r
n key rotate "$GUN" timestamp -r
n add "$GUN" v2 "$FILES/v2"
n publish "$GUN"
tag v1 v2
finish_repo

# rsa: RSA root (init --rootkey, encrypted PKCS#8), targets rotated to an RSA key, RSA-cert delegation.
begin_repo rsa docker.io/interop/rsa "$LOCAL_URL"
n init "$GUN" --rootkey "$KEYS/rsaroot.p8"
n add "$GUN" v1 "$FILES/v1"
n publish "$GUN"
n key rotate "$GUN" targets -k "$KEYS/rsatargets.key"
n delegation add "$GUN" targets/releases "$KEYS/rsareleases.crt" --all-paths
n publish "$GUN"
n key import "$KEYS/rsareleases.key" --role targets/releases
n add "$GUN" v2 "$FILES/v2" --roles targets/releases
n add "$GUN" latest "$FILES/v2"
n publish "$GUN"
tag v1 v2 latest
finish_repo

# hub: the signer-backed server (ecdsa server keys), snapshot -r, docker-style addhash --sha256,
# one public key delegated as targets/releases and targets/bob (bob has a second key nobody signs
# with), v1 signed into both.
begin_repo hub docker.io/interop/hub "$REMOTE_URL"
n init "$GUN"
n key rotate "$GUN" snapshot -r
n publish "$GUN"
n delegation add "$GUN" targets/releases "$KEYS/hubdeleg.pub" --all-paths
n delegation add "$GUN" targets/bob "$KEYS/hubdeleg.pub" "$KEYS/hubextra.pub" --all-paths
n publish "$GUN"
n key import "$KEYS/hubdeleg.key" --role targets/releases
n addhash "$GUN" v1 "$(size_of "$FILES/v1")" --sha256 "$(sha256_of "$FILES/v1")" --roles targets/releases --roles targets/bob
n addhash "$GUN" bob-only "$(size_of "$FILES/v2")" --sha256 "$(sha256_of "$FILES/v2")" --roles targets/bob
n addhash "$GUN" top "$(size_of "$FILES/v3")" --sha256 "$(sha256_of "$FILES/v3")"
n publish "$GUN"
tag v1 bob-only top
finish_repo

# edge: GUN with host:port; a target name with HTML-special characters, a backslash, a slash,
# U+2028, DEL, a space and a non-ASCII letter (the file stores it HTML-escaped, the signature covers
# it raw); a 1 MiB+3 target; --custom data.
begin_repo edge 127.0.0.1:5000/interop/edge "$LOCAL_URL"
WEIRD=$'a<b>&c"d\\e/f\xe2\x80\xa8g\x7fh \xc3\xbc'
n init "$GUN"
n add "$GUN" "$WEIRD" "$FILES/v1"
n add "$GUN" big "$FILES/big"
n add "$GUN" custom "$FILES/v2" --custom "$FILES/custom.json"
n publish "$GUN"
tag "$WEIRD" big custom
finish_repo

# delrm: two delegations sign a tag each; one is removed again (its file stays in the cache, no
# longer in targets.json nor in the snapshot).
begin_repo delrm docker.io/interop/delrm "$LOCAL_URL"
n init "$GUN"
n add "$GUN" top "$FILES/v1"
n delegation add "$GUN" targets/old "$KEYS/old.pub" --all-paths
n delegation add "$GUN" targets/keep "$KEYS/alice.pub" --all-paths
n publish "$GUN"
n key import "$KEYS/old.key" --role targets/old
n key import "$KEYS/alice.key" --role targets/keep
n add "$GUN" old-1 "$FILES/v2" --roles targets/old
n add "$GUN" keep-1 "$FILES/v3" --roles targets/keep
n publish "$GUN"
n list "$GUN"
n delegation remove "$GUN" targets/old -y
n publish "$GUN"
tag top old-1 keep-1
finish_repo

# delrm-last: the only delegation is removed again. notary 0.7.0 then writes
# "delegations":{"keys":{},"roles":null} into targets.json (a nil Go slice), and reads it back fine.
begin_repo delrm-last docker.io/interop/delrm-last "$LOCAL_URL"
n init "$GUN"
n add "$GUN" top "$FILES/v1"
n delegation add "$GUN" targets/old "$KEYS/old.pub" --all-paths
n publish "$GUN"
n key import "$KEYS/old.key" --role targets/old
n add "$GUN" old-1 "$FILES/v2" --roles targets/old
n publish "$GUN"
n list "$GUN"
n delegation remove "$GUN" targets/old -y
n publish "$GUN"
tag top old-1
finish_repo

# --- tampered copies, asked offline ---------------------------------------------------------------
TAMPERS=()
# tamper_case CASE SOURCE ROLE CHANGE-DESCRIPTION then a mutation command run inside the copy's metadata dir.
tamper_case() {
  local case="$1" source="$2" role="$3" change="$4" kind="$5"
  local src_gun src_at dir meta
  src_gun=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).gun)' "$OUT/repos/$source/oracle.json")
  src_at=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).generated_at)' "$OUT/repos/$source/oracle.json")
  dir="$OUT/tamper/$case"
  mkdir -p "$dir"
  cp -a "$OUT/repos/$source/trust" "$dir/trust"
  meta="$dir/trust/tuf/$src_gun/metadata"
  case "$kind" in
    signed-byte | sig-char) node "$TOOL" mutate "$meta/$role.json" "$kind" >"$dir/mutation.txt" ;;
    delete) rm -- "$meta/$role.json" && echo "deleted $role.json" >"$dir/mutation.txt" ;;
    none) echo "unchanged" >"$dir/mutation.txt" ;;
    *) echo "mint.sh: unknown tamper kind $kind" >&2 && return 1 ;;
  esac
  node "$TOOL" tamper --out "$dir/result.json" --case "$case" --source "$source" --gun "$src_gun" \
    --trust "$dir/trust" --scratch "$dir/scratch" --config "$CLIENT_CONFIG" --offline "$OFFLINE_URL" \
    --role "$role" --change "$change: $(cat "$dir/mutation.txt")" --generated-at "$src_at"
  TAMPERS+=("$case")
}
tamper_case control-untouched basic targets "no change (control)" none
tamper_case targets-signed-byte basic targets "a digit of targets.json's signed.expires changed" signed-byte
tamper_case timestamp-signature basic timestamp "a character of timestamp.json's signature changed" sig-char
tamper_case snapshot-signed-byte basic snapshot "a digit of snapshot.json's signed.expires changed" signed-byte
tamper_case root-signature basic root "a character of root.json's signature changed" sig-char
tamper_case timestamp-missing basic timestamp "timestamp.json deleted" delete
tamper_case delegation-missing deleg targets/releases "targets/releases.json deleted" delete
tamper_case delegation-signed-byte deleg targets/alice "a digit of targets/alice.json's signed.expires changed" signed-byte
tamper_case nested-delegation-missing deleg targets/releases/qa "targets/releases/qa.json deleted" delete
tamper_case hub-timestamp-signature hub timestamp "a character of timestamp.json's (ecdsa) signature changed" sig-char
tamper_case hub-delegation-signed-byte hub targets/bob "a digit of targets/bob.json's signed.expires changed" signed-byte

# --- manifest -------------------------------------------------------------------------------------
node -e '
const [out, started, repos, tampers] = process.argv.slice(1);
const fs = require("fs");
const doc = {
  made_by: "scripts/interop/mint.sh",
  started_at: started,
  finished_at: new Date().toISOString(),
  versions: fs.readFileSync(out + "/_run/versions.txt", "utf8").trim().split("\n"),
  repos: repos.split(" ").filter(Boolean).map((r) => "repos/" + r + "/oracle.json"),
  tamper: tampers.split(" ").filter(Boolean).map((t) => "tamper/" + t + "/result.json"),
};
fs.writeFileSync(out + "/manifest.json", JSON.stringify(doc, null, 2) + "\n");
' "$OUT" "$STARTED_AT" "${REPOS[*]}" "${TAMPERS[*]}"

echo "mint.sh: minted ${#REPOS[@]} repositories and ${#TAMPERS[@]} tampered copies in $OUT"
