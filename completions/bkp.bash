# bash completion for bkp. Kept in step with the command table by
# tests/cli/docs_test.cpp: a command or long option missing here fails it.

_bkp() {
  local cur prev words cword
  _init_completion || return

  local global_opts="-r --repo --config --password-file --password-command -q --quiet -v --verbose --json --no-progress -h --help"
  local commands="config help version"

  local cmd="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      -r|--repo|--config|--password-file|--password-command) ((i++)) ;;
      -*) ;;
      *) cmd="${words[i]}"; break ;;
    esac
  done

  case "$prev" in
    --config|--password-file) _filedir; return ;;
    -r|--repo) _filedir -d; return ;;
    --password-command) COMPREPLY=($(compgen -c -- "$cur")); return ;;
  esac

  local opts=""
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "$commands $global_opts" -- "$cur")); return ;;
    config) opts="show --origin" ;;
    help) opts="$commands" ;;
    version) opts="--features" ;;
  esac
  COMPREPLY=($(compgen -W "$opts $global_opts" -- "$cur"))
}
complete -F _bkp bkp
