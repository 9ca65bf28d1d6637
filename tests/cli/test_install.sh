#!/usr/bin/env bash
# `cmake --install` into a temporary DESTDIR, as a gateway would get it with --prefix /usr:
# the binary, the unit (naming that binary and /etc/warden/policy.yaml), the policy and the
# device-type rules in /etc/warden (not /usr/etc), the docs, the shell completions and the man
# pages; a second install keeps an
# operator's edited policy; another prefix gets its own etc and a unit that names it.
#   tests/cli/test_install.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: test_install.sh BUILD_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

install_into() {  # DESTDIR PREFIX
  if ! DESTDIR=$1 cmake --install "$build" --prefix "$2" >"$tmp/install.log" 2>&1; then
    fail "cmake --install --prefix $2 failed:"
    sed 's/^/    /' "$tmp/install.log"
    return 1
  fi
}

root=$tmp/root
if install_into "$root" /usr; then
  for f in usr/bin/warden usr/lib/systemd/system/warden.service etc/warden/policy.yaml \
    etc/warden/device-types.yaml usr/share/doc/warden/README.md \
    usr/share/bash-completion/completions/warden usr/share/zsh/vendor-completions/_warden \
    usr/share/fish/vendor_completions.d/warden.fish usr/share/man/man8/warden.8 \
    usr/share/man/man5/warden-policy.5; do
    [[ -s "$root/$f" ]] || fail "--prefix /usr did not install /$f"
  done
  [[ -x "$root/usr/bin/warden" ]] || fail "/usr/bin/warden is not executable"
  [[ -e "$root/usr/etc" ]] && fail "--prefix /usr put configuration in /usr/etc"
  grep -q '^ExecStart=/usr/bin/warden run --config /etc/warden/policy.yaml$' "$root/usr/lib/systemd/system/warden.service" ||
    fail "the installed unit does not start /usr/bin/warden with /etc/warden/policy.yaml"
  "$root/usr/bin/warden" --version | grep -q '^warden ' || fail "the installed binary does not run"
  "$root/usr/bin/warden" policy check "$root/etc/warden/policy.yaml" >/dev/null ||
    fail "the installed policy does not pass warden policy check"
  bash -c 'source "$1" && complete -p warden' _ "$root/usr/share/bash-completion/completions/warden" 2>&1 |
    grep -q -- '-F _warden warden$' || fail "the installed bash completion does not register for warden"
  ((failures == 0)) &&
    echo "ok: --prefix /usr installs the binary, the unit, /etc/warden, the docs, completions and man pages"

  echo "# edited by the operator" >>"$root/etc/warden/policy.yaml"
  install_into "$root" /usr && {
    if grep -q '^# edited by the operator$' "$root/etc/warden/policy.yaml"; then
      echo "ok: installing again keeps the operator's policy"
    else
      fail "installing again overwrote /etc/warden/policy.yaml"
    fi
  }
fi

other=$tmp/other
if install_into "$other" /opt/warden; then
  if [[ -s "$other/opt/warden/etc/warden/policy.yaml" && -x "$other/opt/warden/bin/warden" ]] &&
    grep -q '^ExecStart=/opt/warden/bin/warden run --config /opt/warden/etc/warden/policy.yaml$' \
      "$other/opt/warden/lib/systemd/system/warden.service" && [[ ! -e "$other/etc" ]]; then
    echo "ok: --prefix /opt/warden keeps everything under it, and the unit names it"
  else
    fail "--prefix /opt/warden: $(cd "$other" && find . -type f | sort | tr '\n' ' ')"
  fi
fi

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "install: all checks passed"
