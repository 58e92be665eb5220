# fish completion for mscan(1). Installed as share/fish/vendor_completions.d/mscan.fish;
# elsewhere, copy it to ~/.config/fish/completions/.
# tests/install/test_install.sh fails if an option of `mscan --help` is missing here.
# Targets (files, directories, -, hf://org/name, Hub URLs) fall back to fish's file completion.

complete -c mscan -s h -l help -d 'Print the options, exit codes and examples'
complete -c mscan -l version -d 'Print the version and exit'
complete -c mscan -s f -l format -x -a 'text json sarif' -d 'Report format'
complete -c mscan -s o -l output -r -F -d 'Write the report to FILE, not stdout'
complete -c mscan -l fail-on -x -d 'Exit 1 on a finding at or above LEVEL' -a '
    critical\t"critical findings only"
    high\t"high or worse"
    medium\t"medium or worse (default)"
    low\t"low or worse"
    info\t"any finding"
    never\t"only report"'
complete -c mscan -l rules -x -a '(__fish_complete_directories (commandline -ct))' -d 'Add/override rules from DIR/*.json'
complete -c mscan -l allow -x -d 'Allow a global: exact name or prefix.*'
complete -c mscan -s j -l jobs -x -d 'Files scanned in parallel'
complete -c mscan -l include -x -d 'Only scan files matching GLOB'
complete -c mscan -l exclude -x -d 'Skip files matching GLOB'
complete -c mscan -l revision -x -d 'Revision for hf:// targets: branch, tag, commit, refs/pr/N'
complete -c mscan -l hf-max-fetch -x -a '64M 256M 1G 2G 4G' -d 'Download at most SIZE per remote file'
complete -c mscan -l hf-retries -x -d 'Retries of a failed Hub request (0-20)'
complete -c mscan -l hf-cache -d 'Also scan the whole local Hugging Face cache'
complete -c mscan -l no-progress -d 'No progress line on stderr for remote scans'
complete -c mscan -l show-skipped -d 'List files that are not a model format'
complete -c mscan -s q -l quiet -d 'Only findings and errors; no summary'
complete -c mscan -s v -l verbose -d 'Also list clean and skipped files'
complete -c mscan -l color -x -a 'auto always never' -d 'ANSI colour: auto (a terminal, not TERM=dumb, no NO_COLOR), always, never'
complete -c mscan -l no-color -d 'No ANSI colour (--color never)'
complete -c mscan -l no-timing -d 'No elapsed time in the text summary'
complete -c mscan -l list-rules -d 'List the rules (with --rules applied) and exit'
complete -c mscan -l config -r -F -d 'Read settings from FILE'
complete -c mscan -l no-config -d 'Ignore configuration files'
complete -c mscan -l show-config -d 'Print the settings in effect and where each came from'
complete -c mscan -l baseline -r -F -d 'Accept the findings listed in FILE'
complete -c mscan -l write-baseline -r -F -d 'Write the findings of this scan to FILE as a baseline'
