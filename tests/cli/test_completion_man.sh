#!/usr/bin/env bash
# The shell completions and man pages the build wrote (controller/CMakeLists.txt) from the
# command table and the policy schema: bash completes commands, subcommands, options and
# their values through `complete`/`compgen`; zsh and fish read their scripts without a syntax
# error; warden(8) and warden-policy(5) render with `man -l` without a warning and name every
# command and every policy section.
#   tests/cli/test_completion_man.sh WARDEN GENERATED_DIR
set -uo pipefail
warden=${1:?usage: test_completion_man.sh WARDEN GENERATED_DIR}
generated=${2:?usage: test_completion_man.sh WARDEN GENERATED_DIR}
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
  echo "cannot run: man and groff are needed (man-db, groff-base; scripts/install-deps.sh installs them)"
  exit 77
fi

# ---- bash, through the completion function as bash itself calls it ----
bash_script=$generated/completion/warden.bash
[[ -s $bash_script ]] || fail "no bash completion at $bash_script"
# completes WORDS...: what bash offers for the last word (empty: a new word).
completes() {
  bash -c '
    source "$1" || exit 1
    complete -p warden | grep -q -- "-F _warden" || { echo "not registered: $(complete -p warden)"; exit 1; }
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    _warden warden "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
  ' completes "$bash_script" "$@"
}
# expect_completion "WORDS" "EXPECTED (sorted, space-separated)"
expect_completion() {
  local got
  # shellcheck disable=SC2086 # the words are split on purpose; "" stands for an empty word
  got=$(eval completes $1)
  if [[ "$got" == "$2 " ]]; then
    echo "ok: bash completes [$1] to: $2"
  else
    fail "bash completes [$1] to [$got], expected [$2]"
  fi
}
expect_completion 'warden qu' 'quarantine'
expect_completion 'warden quarantine ""' 'add del list'
expect_completion 'warden -c /etc/warden/policy.yaml quarantine d' 'del'
expect_completion 'warden quarantine add 02:00:00:00:00:01 --level ""' 'isolate restricted'
expect_completion 'warden quarantine del 02:00:00:00:00:01 --false-positive --detector p' 'port_scan propagation'
expect_completion 'warden block add 198.18.0.0/16 --direction ""' 'both in out'
expect_completion 'warden block add 198.18.0.0/16 --f' '--force'
expect_completion 'warden --log-level ""' 'debug error info warn'
expect_completion 'warden help p' 'policy profile'
expect_completion 'warden help block ""' 'add del list load'
expect_completion 'warden top --sort ""' 'down flows name state up'
# Every visible first word of the overview is offered for an empty word.
overview_words=$("$warden" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' | sort | tr '\n' ' ')
[[ -n $overview_words ]] || fail "no commands in warden --help"
got=$(completes warden "")
[[ "$got" == "$overview_words" ]] && echo "ok: bash offers every command of warden --help" ||
  fail "bash offers [$got] for a first word, warden --help lists [$overview_words]"
# A file argument completes file names.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/blocklist.txt"
expect_completion "warden block load $tmp/bl" "$tmp/blocklist.txt"

# ---- zsh and fish: their scripts parse ----
for shell in zsh fish; do
  script=$generated/completion/$([[ $shell == zsh ]] && echo _warden || echo warden.fish)
  [[ -s $script ]] || fail "no $shell completion at $script"
  if command -v "$shell" >/dev/null; then
    if out=$("$shell" -n "$script" 2>&1); then
      echo "ok: the $shell completion parses"
    else
      fail "the $shell completion does not parse: $out"
    fi
  else
    echo "note: $shell is not installed, its script was not parsed"
  fi
done

# ---- the man pages ----
for page in man/warden.8 man/warden-policy.5; do
  file=$generated/$page
  [[ -s $file ]] || { fail "no $page"; continue; }
  warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$file" 2>&1 >/dev/null)
  [[ -z $warnings ]] && echo "ok: $page renders without warnings" || fail "$page: $warnings"
done
rendered=$(MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$generated/man/warden.8" 2>/dev/null)
missing=""
while read -r name; do
  [[ $rendered == *"warden $name"* ]] || missing+=" $name"
done < <("$warden" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^    [a-z]/ { print group " " $1; next } on && /^  [a-z]/ { group = $1; print $1 }')
[[ -z $missing ]] && echo "ok: warden(8) describes every command" || fail "warden(8) lacks:$missing"
rendered=$(MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$generated/man/warden-policy.5" 2>/dev/null)
missing=""
for key in interfaces map_sizes quarantine events_log devices blocklist identity metrics status_page detectors \
  detectors.port_scan.ports_per_host devices[].mac; do
  [[ $rendered == *"$key"* ]] || missing+=" $key"
done
[[ -z $missing ]] && echo "ok: warden-policy(5) describes the policy's sections" || fail "warden-policy(5) lacks:$missing"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "completion and man: all checks passed"
