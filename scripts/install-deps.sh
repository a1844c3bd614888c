#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine with Go already on it
# (the CI machines and the Docker image): Go modules, Jupyter and the GoNB
# kernel for the notebooks. Safe to run twice: every step checks first and says
# what it does or why it skips.
#
# What it installs:
#   - the project's Go modules (go mod download; offline builds afterwards);
#   - Debian's Jupyter: jupyter-nbconvert jupyter-client python3-nbclient
#     jupyter-notebook (apt-get update + install; skipped when installed);
#   - gonb, built from inside this module at the version go.mod requires (go.mod
#     names it on a `tool` line; the module proxy refuses gonb's version list, so
#     `go install ...gonb@v0.11.1` fails, while `go build` of a required module
#     works offline from the module cache);
#   - goimports (GoNB needs it at run time; pinned, @latest as a fallback);
#   - gopls (optional: completion and hover in the notebook; pinned, since
#     gopls@latest needs a newer Go; when it cannot be installed the kernel is
#     registered with --force_deps and works without it);
#   - the kernel spec "gonb" (gonb --install) for the current user.
#
# Binaries go to $(go env GOPATH)/bin; when that folder is not on PATH and we
# are root, links are made in /usr/local/bin so that Jupyter finds them.
#
# Environment: APT_SKIP_APT=1 skips the apt-get step (a machine with Jupyter
# installed some other way); APT_SKIP_GOPLS=1 skips gopls.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
start=$(date +%s)
# Versions seen working with Go 1.26 (gopls@latest needs a newer Go).
GOPLS_VERSION=${GOPLS_VERSION:-v0.23.0}
GOIMPORTS_VERSION=${GOIMPORTS_VERSION:-v0.52.0}

echo "== go modules"
go mod download
echo "go modules downloaded"

echo "== jupyter (Debian packages)"
PKGS="jupyter-nbconvert jupyter-client python3-nbclient jupyter-notebook"
if [ "${APT_SKIP_APT:-}" = 1 ]; then
  echo "APT_SKIP_APT=1: not installing $PKGS"
elif command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1 \
    && dpkg -s $PKGS >/dev/null 2>&1; then
  echo "already installed: $PKGS (jupyter nbconvert $(jupyter nbconvert --version))"
else
  echo "apt-get update; apt-get install $PKGS"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
  echo "installed: jupyter nbconvert $(jupyter nbconvert --version)"
fi

GOBIN_DIR="$(go env GOBIN)"
if [ -z "$GOBIN_DIR" ]; then GOBIN_DIR="$(go env GOPATH)/bin"; fi
mkdir -p "$GOBIN_DIR"

# link_tool NAME: make NAME reachable on PATH for Jupyter's kernel processes.
link_tool() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ]; then
    ln -sf "$GOBIN_DIR/$name" "/usr/local/bin/$name"
    echo "linked /usr/local/bin/$name -> $GOBIN_DIR/$name"
  else
    echo "note: $GOBIN_DIR is not on PATH; add it so Jupyter finds $name"
  fi
}

echo "== gonb (github.com/janpfeifer/gonb, the version go.mod requires)"
GONB_WANT=$(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)
GONB_HAVE=""
if [ -x "$GOBIN_DIR/gonb" ]; then
  # go version -m lists gonb as the binary's main module ("mod" line); older
  # builds listed it as a dependency ("dep" line): accept both.
  GONB_HAVE=$(go version -m "$GOBIN_DIR/gonb" 2>/dev/null | awk '($1=="dep" || $1=="mod") && $2=="github.com/janpfeifer/gonb" {print $3; exit}')
fi
if [ "$GONB_HAVE" = "$GONB_WANT" ]; then
  echo "already built: $GOBIN_DIR/gonb $GONB_HAVE"
else
  echo "go build -o $GOBIN_DIR/gonb github.com/janpfeifer/gonb ($GONB_WANT)"
  go build -o "$GOBIN_DIR/gonb" github.com/janpfeifer/gonb
fi
link_tool gonb

echo "== goimports"
if [ -x "$GOBIN_DIR/goimports" ] || command -v goimports >/dev/null 2>&1; then
  echo "already installed: $(command -v goimports || echo "$GOBIN_DIR/goimports")"
else
  echo "go install golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
  if ! (cd /tmp && GOFLAGS= GOTOOLCHAIN=local GOBIN="$GOBIN_DIR" go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"); then
    echo "goimports $GOIMPORTS_VERSION did not install; trying @latest"
    (cd /tmp && GOFLAGS= GOTOOLCHAIN=local GOBIN="$GOBIN_DIR" go install golang.org/x/tools/cmd/goimports@latest)
  fi
fi
link_tool goimports

echo "== gopls (optional: completion and hover in notebooks)"
FORCE_DEPS=""
if [ "${APT_SKIP_GOPLS:-}" = 1 ]; then
  echo "APT_SKIP_GOPLS=1: not installing gopls; the kernel is registered with --force_deps"
  FORCE_DEPS="--force_deps"
elif [ -x "$GOBIN_DIR/gopls" ] || command -v gopls >/dev/null 2>&1; then
  echo "already installed: $(command -v gopls || echo "$GOBIN_DIR/gopls")"
  link_tool gopls
else
  echo "go install golang.org/x/tools/gopls@$GOPLS_VERSION (gopls@latest needs a newer Go)"
  if (cd /tmp && GOFLAGS= GOTOOLCHAIN=local GOBIN="$GOBIN_DIR" go install "golang.org/x/tools/gopls@$GOPLS_VERSION"); then
    link_tool gopls
  else
    echo "warning: gopls $GOPLS_VERSION did not install; GoNB runs without it (no completion)"
    FORCE_DEPS="--force_deps"
  fi
fi

echo "== gonb kernel spec"
PATH="$PATH:$GOBIN_DIR" "$GOBIN_DIR/gonb" --install $FORCE_DEPS 2>&1 | sed 's/^/  /'
if command -v jupyter >/dev/null 2>&1; then
  jupyter kernelspec list 2>/dev/null | sed 's/^/  /'
fi

echo "== install-deps done in $(( $(date +%s) - start )) s"
