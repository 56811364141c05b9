#!/usr/bin/env bash
# Run the Salesforce CLI (`sf`, a client no one here wrote) against the sandbox and report what passes.
#
#   scripts/sf-cli-contract.sh [SF_CLI_DIR]
#
# Installs @salesforce/cli with npm into SF_CLI_DIR (default .provisioner/sf-cli; ~300 MB, about a
# minute) unless it is there, starts `provisioner sandbox serve` on loopback, logs in with an access
# token, and runs: org display, data create/query (REST, with the columns=true call sf makes), data
# export bulk (Bulk API 2.0 query jobs), data upsert bulk (Bulk API 2.0 ingest), project deploy
# start / project retrieve start (Metadata API deploy/retrieve of a zip). Prints one PASS/FAIL line
# per command and "N passed, M failed"; exits 1 when any failed. Needs node >= 18 and npm.
# SF_CONTRACT_LOG=FILE keeps every command's output.
# Not part of pytest: it needs npm and takes about a minute (see docs/fidelity/salesforce.md).
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cli_dir="${1:-$repo/.provisioner/sf-cli}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [ ! -x "$cli_dir/node_modules/.bin/sf" ]; then
  mkdir -p "$cli_dir"
  # The CLI's newest HTTP client (undici 8) needs node >= 22.19; pin jsforce's to undici 7 so node 20 runs it.
  printf '{"private": true, "overrides": {"@jsforce/jsforce-node": {"undici": "7.30.2"}}}\n' > "$cli_dir/package.json"
  (cd "$cli_dir" && npm install --no-audit --no-fund --silent @salesforce/cli >/dev/null) || { echo "npm install failed"; exit 1; }
fi
sf="$cli_dir/node_modules/.bin/sf"

"$python" -m provisioner.cli sandbox serve --env-file "$work/sandbox.env" --state "$work/state.json" \
  >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/sandbox.env" ] && break; sleep 0.1; done
set -a; . "$work/sandbox.env"; set +a
token="$("$python" - <<'PY'
import os, requests
r = requests.post(os.environ["SF_LOGIN_URL"] + "/services/oauth2/token", verify=os.environ["SF_CA_BUNDLE"],
                  data={"grant_type": "client_credentials", "client_id": os.environ["SF_CLIENT_ID"],
                        "client_secret": os.environ["SF_CLIENT_SECRET"]})
print(r.json()["access_token"])
PY
)"
export HOME="$work/home" NODE_EXTRA_CA_CERTS="$SF_CA_BUNDLE" SF_DISABLE_TELEMETRY=true SF_AUTOUPDATE_DISABLE=true \
  SF_USE_GENERIC_UNIX_KEYCHAIN=true SF_SKIP_NEW_VERSION_CHECK=true SF_ACCESS_TOKEN="$token"
mkdir -p "$HOME"

passed=0; failed=0
check() {  # check NAME EXPECTED-SUBSTRING COMMAND...
  local name="$1" want="$2"; shift 2
  local out
  out="$(cd "$work" && timeout 180 "$@" 2>&1)"; local rc=$?
  if [ -n "${SF_CONTRACT_LOG:-}" ]; then printf '== %s (exit %s)\n%s\n' "$name" "$rc" "$out" >>"$SF_CONTRACT_LOG"; fi
  if [ $rc -eq 0 ] && grep -q -- "$want" <<<"$out"; then
    echo "PASS $name"; passed=$((passed + 1))
  else
    echo "FAIL $name (exit $rc)"; sed 's/^/    /' <<<"$out" | tail -8; failed=$((failed + 1))
  fi
}

check "org login access-token" '"status": 0' "$sf" org login access-token --instance-url "$SF_LOGIN_URL" --no-prompt --alias box --json
check "org display" '"connectedStatus"' "$sf" org display -o box --json
check "data create record" '"success": true' "$sf" data create record -o box --sobject Account --values "Name='CLI Account'" --json
check "data query (REST, columns=true)" 'CLI Account' "$sf" data query -o box --query "SELECT Id, Name, Owner.Name FROM Account"
check "data export bulk (Bulk 2.0 query job)" 'CLI Account' sh -c "\"$sf\" data export bulk -o box --wait 1 --query 'SELECT Id, Name FROM Account' --output-file accounts.csv --result-format csv >/dev/null && cat accounts.csv"

# A project with one custom object and an external id, deployed in source format (sf converts it to a zip).
mkdir -p "$work/force-app/main/default/objects/CliThing__c/fields"
cat > "$work/sfdx-project.json" <<'JSON'
{"packageDirectories": [{"path": "force-app", "default": true}], "sourceApiVersion": "59.0"}
JSON
cat > "$work/force-app/main/default/objects/CliThing__c/CliThing__c.object-meta.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <label>CLI Thing</label>
    <nameField><label>CLI Thing Name</label><type>Text</type></nameField>
    <pluralLabel>CLI Things</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
XML
cat > "$work/force-app/main/default/objects/CliThing__c/fields/Key__c.field-meta.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Key__c</fullName>
    <externalId>true</externalId>
    <label>Key</label>
    <length>40</length>
    <required>true</required>
    <type>Text</type>
    <unique>true</unique>
</CustomField>
XML
check "project deploy start (Metadata API deploy)" '"status": "Succeeded"' "$sf" project deploy start -o box --source-dir force-app --wait 2 --json
check "project retrieve start (Metadata API retrieve)" 'CliThing__c' "$sf" project retrieve start -o box --metadata CustomObject:CliThing__c --output-dir retrieved --wait 2 --json
printf 'Key__c,Name\nK-1,first\nK-2,second\n' > "$work/things.csv"
check "data upsert bulk (Bulk 2.0 ingest)" '"successfulResults"\|"processedRecords": 2' "$sf" data upsert bulk -o box --sobject CliThing__c --file things.csv --external-id Key__c --wait 2 --json
check "data query after upsert" 'second' "$sf" data query -o box --query "SELECT Key__c, Name FROM CliThing__c"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
