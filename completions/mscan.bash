# bash completion for mscan(1).                                    -*- shell-script -*-
# Installed as share/bash-completion/completions/mscan (loaded on demand by bash-completion);
# without bash-completion, `source` this file from ~/.bashrc. Self-contained: it needs none of
# bash-completion's helper functions.
# tests/install/test_install.sh fails if an option of `mscan --help` is missing here.

_mscan() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # `--format=js`: bash splits at '=' (COMP_WORDBREAKS), giving "--format" "=" "js".
    if [[ $cur == "=" ]] && ((COMP_CWORD > 0)); then
        cur=""
    elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    local formats="text json sarif"
    local levels="critical high medium low info never"
    local options="-h --help -f --format -o --output --fail-on --rules --allow -j --jobs
        --include --exclude --revision --hf-max-fetch --hf-retries --hf-cache --no-progress
        --show-skipped -q --quiet -v --verbose --color --no-color --no-timing --list-rules --config
        --no-config --show-config --baseline --write-baseline --version"

    COMPREPLY=()
    case $prev in
        -f | --format)
            mapfile -t COMPREPLY < <(compgen -W "$formats" -- "$cur")
            return 0
            ;;
        --fail-on)
            mapfile -t COMPREPLY < <(compgen -W "$levels" -- "$cur")
            return 0
            ;;
        --color)
            mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
            return 0
            ;;
        -o | --output | --config | --baseline | --write-baseline)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
            ;;
        --rules)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
            ;;
        --hf-max-fetch)
            mapfile -t COMPREPLY < <(compgen -W "64M 256M 1G 2G 4G" -- "$cur")
            return 0
            ;;
        -j | --jobs | --hf-retries | --allow | --include | --exclude | --revision)
            return 0  # a value of the user's own: nothing sensible to offer
            ;;
    esac

    # After `--` every word is a target.
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == "--" ]]; then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
        fi
    done

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
        return 0
    fi
    # Targets: files and directories (hf:// and Hub URLs are typed by hand).
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
}
complete -F _mscan mscan
