#!/usr/bin/env bash
# Install test (ctest: install_tree). Installs the current build tree into a temporary prefix
# with `cmake --install`, then checks that
#   - every file of the install layout is there (binary, man page, bash/zsh/fish completions,
#     share/doc/mscan/ with README.md, every docs/*.md and docs/json-schema.json);
#   - the installed binary runs: --version, a hostile sample (exit 1), a benign one (exit 0);
#   - the man page renders (man -l, groff without warnings, 80 columns), is found through
#     MANPATH, and carries the binary's version;
#   - the bash completion loads and completes options, --format and --fail-on values;
#   - every option of `mscan --help` (and every subcommand, if there are any), every report
#     format and every --fail-on level is in the man page's OPTIONS and in all three
#     completions, so that a new option cannot ship undocumented.
# zsh and fish completions are syntax-checked when those shells are installed.
#
#   MSCAN_BUILD_DIR=build MSCAN_SOURCE_DIR=. bash tests/install/test_install.sh
#
# CMAKE may name the cmake binary (ctest passes the one that configured the build).
# All failures are listed, then the script exits 1.
set -euo pipefail

: "${MSCAN_BUILD_DIR:?set MSCAN_BUILD_DIR to a configured and built build directory}"
: "${MSCAN_SOURCE_DIR:?set MSCAN_SOURCE_DIR to the repository root}"
build=$(realpath "$MSCAN_BUILD_DIR")
src=$(realpath "$MSCAN_SOURCE_DIR")
cmake_bin=${CMAKE:-cmake}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mscan-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

checks=0
failures=0
pass() {
    checks=$((checks + 1))
    printf 'ok %d - %s\n' "$checks" "$*"
}
fail() {
    checks=$((checks + 1))
    failures=$((failures + 1))
    printf 'FAIL %d - %s\n' "$checks" "$*" >&2
}
note() { printf '# %s\n' "$*"; }
# result PASS_TEXT FAIL_TEXT COMMAND...: pass or fail on COMMAND's exit status.
result() {
    local good=$1 bad=$2
    shift 2
    if "$@"; then pass "$good"; else fail "$bad"; fi
}

# --- install --------------------------------------------------------------------------------
if ! "$cmake_bin" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "FAIL: cmake --install $build --prefix $prefix" >&2
    exit 1
fi
pass "cmake --install $build --prefix <tmp>"

bin=$prefix/bin/mscan
man_page=$prefix/share/man/man1/mscan.1
bash_comp=$prefix/share/bash-completion/completions/mscan
zsh_comp=$prefix/share/zsh/vendor-completions/_mscan
fish_comp=$prefix/share/fish/vendor_completions.d/mscan.fish
doc=$prefix/share/doc/mscan

expected=("$bin" "$man_page" "$bash_comp" "$zsh_comp" "$fish_comp" "$doc/README.md"
    "$doc/json-schema.json" "$doc/copyright")
for f in "$src"/docs/*.md; do expected+=("$doc/$(basename "$f")"); done
for f in "${expected[@]}"; do
    result "installed ${f#"$prefix"/}" "missing or empty: ${f#"$prefix"/}" test -s "$f"
done
if [[ -x $bin ]]; then pass "bin/mscan is executable"; else fail "bin/mscan is not executable"; fi
# The copyright file carries LICENSE's text (Debian's format: one space of indent, " ." for an
# empty line).
if grep -q '^License: Apache-2.0$' "$doc/copyright" 2>/dev/null &&
    diff <(sed -n '/^License:/,$p' "$doc/copyright" | tail -n +2 | sed 's/^ \.$//; s/^ //') \
        <(sed '/./,$!d' "$src/LICENSE" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
          sed 's/^[[:space:]]*$//') >/dev/null; then
    pass "share/doc/mscan/copyright carries LICENSE (Apache-2.0)"
else
    fail "share/doc/mscan/copyright does not carry LICENSE"
fi
# The installed copies are the sources, byte for byte (the bash completion is renamed).
for pair in "$src/docs/mscan.1:$man_page" "$src/completions/mscan.bash:$bash_comp" \
    "$src/completions/_mscan:$zsh_comp" "$src/completions/mscan.fish:$fish_comp" \
    "$src/README.md:$doc/README.md"; do
    if cmp -s "${pair%%:*}" "${pair#*:}"; then
        pass "${pair#*"$prefix"/} is ${pair%%:*}"
    else
        fail "${pair#*"$prefix"/} differs from ${pair%%:*}"
    fi
done
[[ -x $bin ]] || { echo "FAIL: no installed binary; stopping" >&2; exit 1; }

# --- the installed binary -------------------------------------------------------------------
version=$("$bin" --version)
if [[ $version =~ ^mscan\ [0-9]+\.[0-9]+\.[0-9]+ ]]; then
    pass "installed mscan --version: $version"
else
    fail "installed mscan --version printed '$version'"
fi

# run_expect CODE DESCRIPTION ARGS...: runs the installed binary, checks its exit code.
run_expect() {
    local want=$1 what=$2 status=0
    shift 2
    "$bin" --no-color --no-timing "$@" >"$tmp/out" 2>&1 || status=$?
    if [[ $status -eq $want ]]; then
        pass "$what: exit $status"
    else
        fail "$what: exit $status, expected $want (mscan $*)"
        head -c 2000 "$tmp/out" >&2
    fi
}
hostile=$src/samples/pickle/hostile/builtins_exec.pkl
benign=$src/samples/pickle/benign/proto0_nested.pkl
run_expect 1 "hostile sample ${hostile#"$src"/}" "$hostile"
if grep -q 'builtins.exec' "$tmp/out"; then
    pass "the report names builtins.exec"
else
    fail "the report on ${hostile#"$src"/} does not name builtins.exec"
fi
run_expect 0 "benign sample ${benign#"$src"/}" "$benign"
run_expect 4 "unknown option" --no-such-option "$benign"

help=$("$bin" --help)

# --- man page -------------------------------------------------------------------------------
th_version=$(sed -n 's/^\.TH [^ ]* [^ ]* [^ ]* "\(mscan [^"]*\)".*/\1/p' "$man_page")
if [[ $th_version == "$version" ]]; then
    pass "man page .TH carries '$version'"
else
    fail "man page .TH says '$th_version', the binary '$version' (update docs/mscan.1)"
fi
for section in NAME SYNOPSIS DESCRIPTION OPTIONS TARGETS ENVIRONMENT "EXIT STATUS" EXAMPLES \
    "SEE ALSO"; do
    if grep -qxE "\.SH \"?$section\"?" "$man_page"; then
        pass "man page section $section"
    else
        fail "man page has no section $section"
    fi
done
for var in HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HOME HF_ENDPOINT HF_HUB_OFFLINE HF_HUB_CACHE \
    NO_COLOR; do
    if sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$man_page" | grep -qx "\.B $var"; then
        pass "man page ENVIRONMENT: $var"
    else
        fail "man page ENVIRONMENT does not describe $var"
    fi
done
for code in 0 1 2 3 4; do
    if sed -n '/^\.SH "\{0,1\}EXIT STATUS/,/^\.SH /p' "$man_page" | grep -qx "\.B $code"; then
        pass "man page EXIT STATUS: $code"
    else
        fail "man page EXIT STATUS does not describe $code"
    fi
done
if command -v groff >/dev/null 2>&1; then
    warnings=$(groff -man -Tutf8 -ww -z "$man_page" 2>&1)
    result "groff -man -ww: no warnings" "groff warnings: $warnings" test -z "$warnings"
else
    note "groff not installed: groff warning check skipped"
fi
if command -v man >/dev/null 2>&1; then
    rendered=$(MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$man_page" 2>"$tmp/man.err") || true
    if grep -q '^EXIT STATUS' <<<"$rendered" &&
        grep -q -- '--hf-max-fetch SIZE' <<<"$rendered"; then
        pass "man -l renders ($(wc -l <<<"$rendered") lines)"
    else
        fail "man -l does not render: $(cat "$tmp/man.err")"
    fi
    width=$(LC_ALL=C.UTF-8 wc -L <<<"$rendered")
    result "man page fits 80 columns ($width)" "man page line of $width columns at MANWIDTH=80" \
        test "$width" -le 80
    found=$(MANPATH=$prefix/share/man man -w mscan 2>/dev/null) || true
    if [[ $found == "$man_page" ]]; then
        pass "man -w finds it through MANPATH"
    else
        fail "MANPATH=$prefix/share/man man -w mscan gave '$found'"
    fi
else
    note "man not installed: rendering checks skipped"
fi

# --- bash completion ------------------------------------------------------------------------
# complete_bash WORD...: the candidates bash completion offers for the last WORD.
complete_bash() {
    bash --norc --noprofile -c '
        source "$1" || exit 9
        shift
        COMP_WORDS=(mscan "$@")
        COMP_CWORD=$#
        COMP_LINE="mscan $*"
        COMP_POINT=${#COMP_LINE}
        _mscan mscan "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"
    ' complete_bash "$bash_comp" "$@"
}
spec=$(bash --norc --noprofile -c 'source "$1" && complete -p mscan' _ "$bash_comp" 2>&1) || true
if [[ $spec == "complete -F _mscan mscan" ]]; then
    pass "bash completion loads: $spec"
else
    fail "bash completion does not register: '$spec'"
fi
# A file target in the current directory is offered.
mkdir -p "$tmp/cwd" && : >"$tmp/cwd/model_file.pkl"
got=$(cd "$tmp/cwd" && complete_bash model_)
result "bash completes file targets" "bash target completion gave '$got'" \
    test "$got" = model_file.pkl
# `--format=js<TAB>`: bash splits the word at '=' (COMP_WORDBREAKS) into "--format" "=" "js".
got=$(complete_bash --format = js)
result "bash completes --format=js<TAB>" "bash --format=js gave '$got'" test "$got" = json
got=$(complete_bash -q --fail-on = "")
if [[ $(wc -l <<<"$got") -eq 6 ]] && grep -qx never <<<"$got"; then
    pass "bash completes --fail-on=<TAB>"
else
    fail "bash --fail-on= gave '$got'"
fi
got=$(complete_bash --rules "$tmp/cw")
result "bash completes --rules DIR with directories" "bash --rules gave '$got'" \
    test "$got" = "$tmp/cwd"

# --- coverage: every option, format and level of --help ------------------------------------
# Option names from the first column of the Options: section ("-f,--format FMT  ...").
mapfile -t help_options < <(awk '/^Options:/ { f = 1; next } f && /^$/ { exit } f' <<<"$help" |
    sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' '\n' | grep -E '^--?[[:alnum:]]')
if [[ ${#help_options[@]} -ge 20 ]]; then
    pass "${#help_options[@]} options parsed from --help"
else
    fail "only ${#help_options[@]} options parsed from --help (format changed?)"
fi
mapfile -t subcommands < <(awk '/^Subcommands:/ { f = 1; next } f && /^$/ { exit } f' <<<"$help" |
    sed -n 's/^  \([[:alnum:]][^ ]*\).*/\1/p')
# "Report format: text|json|sarif"
mapfile -t formats < <(sed -n 's/.*Report format: \([a-z|]*\).*/\1/p' <<<"$help" | tr '|' '\n')
# "--fail-on LEVEL  Exit 1 ... LEVEL: critical, high,\n  medium (default), low, info, or never"
mapfile -t levels < <(awk '/^  --fail-on / { f = 1 } f && /^  -/ && !/^  --fail-on / { exit } f' \
    <<<"$help" | tr '\n' ' ' | sed 's/.*LEVEL: //; s/(default)//g; s/\bor\b//g' |
    tr -c 'a-z\n' ' ' | tr -s ' ' '\n' | grep -v '^$')
if [[ ${#formats[@]} -ge 3 && ${#levels[@]} -ge 6 ]]; then
    pass "formats (${formats[*]}) and levels (${levels[*]}) parsed from --help"
else
    fail "formats '${formats[*]}' / levels '${levels[*]}' not parsed from --help"
fi

# The man page's OPTIONS section, with roff's \- and font escapes removed; only its tag lines
# (.B/.BR/.BI), so that a mention in another option's text does not count.
man_tags=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man_page" | grep -E '^\.(B|BR|BI|RB) ' |
    sed 's/\\-/-/g; s/\\f[BIRP]//g')
man_all=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$man_page")
bash_options=$(complete_bash -)
bash_formats=$(complete_bash --format "")
bash_levels=$(complete_bash --fail-on "")
fish_format_line=$(grep -E -- '-l format( |$)' "$fish_comp" || true)
fish_levels=$(sed -n '/-l fail-on/,/^complete\|^$/p' "$fish_comp")
zsh_format_line=$(grep -E -- '--format=' "$zsh_comp" || true)
zsh_levels=$(sed -n '/^levels=(/,/^)/p' "$zsh_comp")

# word_in TEXT WORD: WORD appears in TEXT, not as part of a longer option name.
word_in() { grep -qE -- "(^|[^-[:alnum:]])$2([^-[:alnum:]]|\$)" <<<"$1"; }

for opt in "${help_options[@]}"; do
    missing=()
    word_in "$man_tags" "$opt" || missing+=("man page OPTIONS")
    grep -qxF -- "$opt" <<<"$bash_options" || missing+=("bash")
    word_in "$(cat "$zsh_comp")" "$opt" || missing+=("zsh")
    if [[ $opt == --* ]]; then
        grep -qE -- "-l ${opt#--}( |$)" "$fish_comp" || missing+=("fish")
    else
        grep -qE -- "-s ${opt#-}( |$)" "$fish_comp" || missing+=("fish")
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        pass "option $opt: man page, bash, zsh, fish"
    else
        fail "option $opt (in mscan --help) is missing from: ${missing[*]}"
    fi
done
for cmd in "${subcommands[@]}"; do
    missing=()
    word_in "$man_all" "$cmd" || missing+=("man page")
    for f in "$bash_comp" "$zsh_comp" "$fish_comp"; do
        word_in "$(cat "$f")" "$cmd" || missing+=("$(basename "$f")")
    done
    result "subcommand $cmd: man page and completions" \
        "subcommand $cmd is missing from: ${missing[*]}" test ${#missing[@]} -eq 0
done
for fmt in "${formats[@]}"; do
    missing=()
    grep -qxF "$fmt" <<<"$bash_formats" || missing+=("bash")
    word_in "$zsh_format_line" "$fmt" || missing+=("zsh")
    word_in "$fish_format_line" "$fmt" || missing+=("fish")
    word_in "$man_all" "$fmt" || missing+=("man page")
    result "--format $fmt completed everywhere" "--format $fmt is missing from: ${missing[*]}" \
        test ${#missing[@]} -eq 0
done
for level in "${levels[@]}"; do
    missing=()
    grep -qxF "$level" <<<"$bash_levels" || missing+=("bash")
    word_in "$zsh_levels" "$level" || missing+=("zsh")
    word_in "$fish_levels" "$level" || missing+=("fish")
    result "--fail-on $level completed everywhere" \
        "--fail-on $level is missing from: ${missing[*]}" test ${#missing[@]} -eq 0
done

# --- zsh and fish, when installed -----------------------------------------------------------
if command -v zsh >/dev/null 2>&1; then
    if zsh -n "$zsh_comp" 2>"$tmp/zsh.err"; then
        pass "zsh -n _mscan"
    else
        fail "zsh -n: $(cat "$tmp/zsh.err")"
    fi
else
    note "zsh not installed: zsh completion syntax not checked"
fi
if command -v fish >/dev/null 2>&1; then
    if fish --no-execute "$fish_comp" 2>"$tmp/fish.err"; then
        pass "fish --no-execute mscan.fish"
    else
        fail "fish: $(cat "$tmp/fish.err")"
    fi
    got=$(HOME=$tmp fish --no-config -c "source '$fish_comp'; complete -C 'mscan --format '" 2>&1 |
        cut -f1) || true
    if [[ $(sort <<<"$got" | tr '\n' ' ') == "json sarif text " ]]; then
        pass "fish completes --format values"
    else
        fail "fish --format completion gave '$got'"
    fi
else
    note "fish not installed: fish completion not checked"
fi

echo "# $checks checks, $failures failed"
[[ $failures -eq 0 ]]
