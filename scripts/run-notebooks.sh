#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless, with a real Jupyter and the
# GoNB kernel, against this working tree (each notebook's first cell points its
# Go module at the checkout), offline (GOPROXY=off), and fails on any cell
# error, naming the notebook and the cell.
#
#   scripts/run-notebooks.sh                 run all; executed copies go to a temp dir
#   scripts/run-notebooks.sh --update        ... and on success rewrite the committed
#                                            notebooks with the fresh outputs
#   scripts/run-notebooks.sh notebooks/ner.ipynb ...   run only these
#
# Options: --timeout SECONDS per cell (default 900), --out DIR for the executed
# copies (default: a new temp dir, kept and printed).
#
# When Jupyter, nbconvert, the gonb kernel, go or goimports is missing it prints
# why and exits 0 (skipped), unless CI=true: then it exits 1.
# scripts/install-deps.sh installs all of them.
#
# GoNB reports a compile error as a cell error, but a Go program that panics or
# exits non-zero only prints "exit status N" on stderr; both count as failures
# here (see check_outputs below).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

UPDATE=0
TIMEOUT=900
OUT=""
NOTEBOOKS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --update) UPDATE=1 ;;
    --timeout) TIMEOUT=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run-notebooks: unknown option $1" >&2; exit 2 ;;
    *) NOTEBOOKS+=("$1") ;;
  esac
  shift
done

skip() {
  if [ "${CI:-}" = true ]; then
    echo "run-notebooks: FAIL: $1 (CI=true: the notebooks must run; scripts/install-deps.sh installs what they need)" >&2
    exit 1
  fi
  echo "run-notebooks: SKIP: $1 (scripts/install-deps.sh installs it; CI=true makes this an error)"
  exit 0
}

command -v jupyter >/dev/null 2>&1 || skip "jupyter is not installed"
jupyter nbconvert --version >/dev/null 2>&1 || skip "jupyter nbconvert is not installed"
jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -qx gonb || skip "the gonb Jupyter kernel is not registered"
command -v go >/dev/null 2>&1 || skip "go is not on PATH"
GOBIN_DIR="$(go env GOBIN)"; [ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
export PATH="$PATH:$GOBIN_DIR"   # where install-deps puts goimports and gopls
command -v goimports >/dev/null 2>&1 || skip "goimports (GoNB needs it) is not installed"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # Debian's, which has Jupyter's modules

if [ ${#NOTEBOOKS[@]} -eq 0 ]; then
  # The quickstart first: it is what a new user runs.
  [ -f notebooks/quickstart.ipynb ] && NOTEBOOKS+=(notebooks/quickstart.ipynb)
  for nb in notebooks/*.ipynb; do
    [ "$nb" = notebooks/quickstart.ipynb ] || NOTEBOOKS+=("$nb")
  done
fi
[ -e "${NOTEBOOKS[0]:-}" ] || { echo "run-notebooks: no notebooks found" >&2; exit 1; }

if [ -z "$OUT" ]; then OUT=$(mktemp -d "${TMPDIR:-/tmp}/apt-notebooks.XXXXXX"); fi
mkdir -p "$OUT"

# Offline, on the pure-Go backend unless the caller chose one. The notebooks'
# modules come from the module cache (install-deps.sh ran go mod download).
export GOPROXY=off
export GOMLX_BACKEND=${GOMLX_BACKEND:-go}
export GOTOOLCHAIN=local
export PYDEVD_DISABLE_FILE_VALIDATION=1

# check_outputs NOTEBOOK: fails (exit 1) when an executed notebook holds an
# error output, or stderr from a Go program that panicked or exited non-zero.
check_outputs() {
  "$PY" - "$1" <<'EOF'
import json, re, sys
path = sys.argv[1]
nb = json.load(open(path))
bad = re.compile(r"^(exit status \d+|panic: |fatal error: |signal: killed|failed to run )", re.M)
n = 0
for i, cell in enumerate(nb["cells"]):
    if cell.get("cell_type") != "code":
        continue
    n += 1
    for out in cell.get("outputs", []):
        text = None
        if out.get("output_type") == "error":
            text = out.get("ename", "") + ": " + out.get("evalue", "") + "\n" + "\n".join(out.get("traceback", []))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            s = "".join(out.get("text", ""))
            if bad.search(s):
                text = s
        if text is not None:
            src = "".join(cell.get("source", "")).strip().splitlines()
            first = next((l for l in src if l.strip() and not l.startswith(("import", "\t", ")", "//"))), src[0] if src else "")
            print(f"  code cell {n} (cell {i + 1}, starting {first[:60]!r}) failed:", file=sys.stderr)
            for line in text.strip().splitlines()[-15:]:
                print("    " + re.sub(r"\x1b\[[0-9;]*m", "", line), file=sys.stderr)
            sys.exit(1)
EOF
}

# strip_volatile NOTEBOOK: drop per-cell execution timestamps, so that a
# committed notebook only changes where its outputs do.
strip_volatile() {
  "$PY" - "$1" <<'EOF'
import json, sys
path = sys.argv[1]
nb = json.load(open(path))
for cell in nb["cells"]:
    cell.get("metadata", {}).pop("execution", None)
with open(path, "w") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
EOF
}

echo "run-notebooks: ${#NOTEBOOKS[@]} notebooks, executed copies and logs in $OUT"
total_start=$(date +%s)
failed=()
for nb in "${NOTEBOOKS[@]}"; do
  name=$(basename "$nb" .ipynb)
  start=$(date +%s)
  log="$OUT/$name.log"
  status=ok
  if ! jupyter nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name=gonb \
      --ExecutePreprocessor.timeout="$TIMEOUT" \
      --output-dir "$OUT" --output "$name.ipynb" "$nb" >"$log" 2>&1; then
    status=failed
    echo "run-notebooks: $nb: FAILED (nbconvert); last lines of $log:" >&2
    grep -v '^[IWE][0-9]\{4\} ' "$log" | tail -25 | sed 's/^/    /' >&2
  elif ! check_outputs "$OUT/$name.ipynb"; then
    status=failed
    echo "run-notebooks: $nb: FAILED (a cell's program failed; see $OUT/$name.ipynb)" >&2
  fi
  secs=$(( $(date +%s) - start ))
  if [ $status = ok ]; then
    echo "run-notebooks: $nb: ok in ${secs} s"
    if [ $UPDATE = 1 ]; then
      strip_volatile "$OUT/$name.ipynb"
      cp "$OUT/$name.ipynb" "$nb"
      echo "run-notebooks: updated $nb"
    fi
  else
    failed+=("$nb")
  fi
done
echo "run-notebooks: total $(( $(date +%s) - total_start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-notebooks: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "run-notebooks: all ${#NOTEBOOKS[@]} notebooks ran without errors"
