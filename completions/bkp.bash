# bash completion for bkp. Kept in step with the command table by
# tests/cli/docs_test.cpp: a command or long option missing here fails it.

# Options that take a value: the word after them is not a command.
_bkp_takes_value() {
  case "$1" in
    -r|--repo|--config|--password-file|--password-command|--key-file|--key-command|--s3-endpoint) return 0 ;;
    --storage-class|--limit-upload|--limit-download) return 0 ;;
    --role|--new-password-file|--new-key-file|--new-key-command) return 0 ;;
    --exclude|--exclude-file|--type|--tag|--source|--name|--compression) return 0 ;;
    -t|--target|--include|--overwrite|--to-stdout|--format|-o|--output) return 0 ;;
    --read-data-subset|--mode|--database|--from-database|--jobs) return 0 ;;
    --pg-host|--pg-port|--pg-user|--pg-database) return 0 ;;
    --pg-data|--pg-via|--wal-timeout|--target-dir|--to-time|--to-lsn|--to-xid|--port) return 0 ;;
    --limit-rate|--io-nice|--tablespace-map) return 0 ;;
    --reason|--keep-last|--keep-hourly|--keep-daily|--keep-weekly|--keep-monthly|--keep-yearly) return 0 ;;
    --keep-within|--keep-tag|--max-repack-size|--repack-threshold|--grace) return 0 ;;
    --key-domain|--by|--chunking-from|--from|--to|--from-password-file|--from-password-command|--from-key-file|--from-key-command) return 0 ;;
    --to-password-file|--to-password-command|--to-key-file|--to-key-command) return 0 ;;
  esac
  return 1
}

_bkp() {
  local cur prev words cword
  _init_completion || return

  local global_opts="-r --repo --config --password-file --password-command --key-file --key-command --s3-endpoint --storage-class --limit-upload --limit-download --insecure-http -q --quiet -v --verbose --json --no-progress -h --help"
  local commands="audit backup catalog config copy diff forget help hold init keys ls prune release restore snapshots storage verify version wal-fetch wal-push"

  # The command and, for backup, catalog, config and restore, its subcommand.
  local cmd="" sub="" i after_dashdash=0
  for ((i = 1; i < cword; i++)); do
    local w="${words[i]}"
    if [[ -n "$sub" && "$w" == "--" ]]; then
      after_dashdash=1
      break
    fi
    if [[ "$w" == -* ]]; then
      [[ "$w" != *=* ]] && _bkp_takes_value "$w" && ((i++))
      continue
    fi
    if [[ -z "$cmd" ]]; then
      cmd="$w"
    elif [[ -z "$sub" && ("$cmd" == audit || "$cmd" == backup || "$cmd" == catalog || "$cmd" == config || "$cmd" == keys || "$cmd" == storage ||
              ("$cmd" == restore && "$w" == postgres)) ]]; then
      sub="$w"
    fi
  done

  # backup stdin -- COMMAND ARGS...: complete the command, then its arguments.
  if ((after_dashdash)); then
    if ((i + 1 == cword)); then
      COMPREPLY=($(compgen -c -- "$cur" | sort -u))
    else
      _filedir
    fi
    return
  fi

  case "$prev" in
    --config|--password-file|--key-file|--exclude-file) _filedir; return ;;
    --new-password-file|--new-key-file) _filedir; return ;;
    --from-password-file|--from-key-file|--to-password-file|--to-key-file) _filedir; return ;;
    --from|--to) _filedir -d; return ;;
    -r|--repo|-t|--target) _filedir -d; return ;;
    -o|--output) _filedir; return ;;
    --password-command|--key-command|--new-key-command) COMPREPLY=($(compgen -c -- "$cur" | sort -u)); return ;;
    --role) COMPREPLY=($(compgen -W "admin restore backup" -- "$cur")); return ;;
    --type) COMPREPLY=($(compgen -W "full incremental differential" -- "$cur")); return ;;
    --mode) COMPREPLY=($(compgen -W "logical physical" -- "$cur")); return ;;
    --pg-data|--target-dir) _filedir -d; return ;;
    --pg-via) COMPREPLY=($(compgen -W "auto local replication" -- "$cur")); return ;;
    --wal-timeout|--to-time|--to-lsn|--to-xid|--port|--tablespace-map) return ;;
    --limit-rate) COMPREPLY=($(compgen -W "500K 5M 20M 100M" -- "$cur")); return ;;
    --io-nice) COMPREPLY=($(compgen -W "idle best-effort" -- "$cur")); return ;;
    --pg-host) _filedir -d; return ;;
    --pg-port|--pg-user|--pg-database|--database|--from-database|--jobs) return ;;
    --overwrite) COMPREPLY=($(compgen -W "never if-changed always" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "tar" -- "$cur")); return ;;
    --compression) COMPREPLY=($(compgen -W "zstd zstd: lz4 none" -- "$cur")); return ;;
    --read-data-subset) COMPREPLY=($(compgen -W "1/7 5% 10%" -- "$cur")); return ;;
    --exclude|--include|--tag|--source|--name|--to-stdout) return ;;
    --reason|--keep-last|--keep-hourly|--keep-daily|--keep-weekly|--keep-monthly|--keep-yearly) return ;;
    --keep-within|--grace) COMPREPLY=($(compgen -W "1h 6h 1d 7d 30d 1y" -- "$cur")); return ;;
    --keep-tag|--max-repack-size|--repack-threshold) return ;;
  esac

  local opts="" words_done=0
  local pg_opts="--pg-host --pg-port --pg-user --pg-database"
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "$commands $global_opts" -- "$cur")); return ;;
    backup)
      case "$sub" in
        "") opts="files stdin postgres" ;;
        files)
          opts="--exclude --exclude-file --one-file-system --type --tag --source --key-domain --limit-rate --io-nice"
          if [[ "$cur" != -* ]]; then _filedir; return; fi
          ;;
        stdin) opts="--name --tag --key-domain --" ;;
        postgres) opts="--mode --type --pg-data --pg-via --wal-timeout --limit-rate --io-nice --database --all-databases --tag --key-domain $pg_opts" ;;
      esac
      ;;
    audit)
      case "$sub" in
        "") opts="log verify export" ;;
        log) opts="--since" ;;
        export) opts="--output -o --format" ;;
      esac
      ;;
    catalog) [[ -z "$sub" ]] && opts="rebuild" ;;
    config)
      opts="--origin"
      [[ -z "$sub" ]] && opts="show $opts"
      ;;
    copy)
      opts="--from --to --from-password-file --from-password-command --from-key-file --from-key-command"
      opts="$opts --to-password-file --to-password-command --to-key-file --to-key-command --source --dry-run --no-wal latest"
      ;;
    diff) opts="latest" ;;
    forget) opts="--dry-run latest" ;;
    help) opts="$commands"; words_done=1 ;;
    hold) opts="--reason latest" ;;
    init)
      opts="--compression --generate-key-file --chunking-from --create-bucket"
      if [[ "$cur" != -* ]]; then _filedir -d; return; fi
      ;;
    keys)
      case "$sub" in
        "") opts="list add remove rotate shred" ;;
        add) opts="--role --new-password-file --new-key-file --generate-key-file --new-key-command" ;;
        shred) opts="--domain --yes --dry-run" ;;
        rotate) opts="--rewrap --new-password-file --new-key-file --generate-key-file --new-key-command --reencrypt --retire --grace --dry-run" ;;
      esac
      ;;
    ls) opts="-l --long latest" ;;
    prune)
      opts="--keep-last --keep-hourly --keep-daily --keep-weekly --keep-monthly --keep-yearly"
      opts="$opts --keep-within --keep-tag --source --dry-run --max-repack-size --repack-threshold --grace"
      ;;
    release) opts="latest" ;;
    restore)
      if [[ "$sub" == postgres ]]; then
        opts="--database --from-database --create --jobs --globals-only --target-dir --to-time --to-lsn --to-xid --latest --start --port --tablespace-map $pg_opts latest auto"
      else
        opts="postgres -t --target --include --exclude --overwrite --verify --to-stdout --format -o --output latest"
      fi
      ;;
    snapshots) opts="--source --tag" ;;
    storage)
      opts="--by"
      [[ -z "$sub" ]] && opts="usage $opts"
      [[ "$prev" == --by ]] && { opts="day week month"; words_done=1; }
      ;;
    verify) opts="--read-data --read-data-subset --replicas latest" ;;
    version) opts="--features" ;;
    wal-push)
      if [[ "$cur" != -* ]]; then _filedir; return; fi
      opts="--key-domain"
      ;;
    wal-fetch) _filedir; return ;;
  esac
  if ((words_done)); then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$opts $global_opts" -- "$cur"))
  fi
}
complete -F _bkp bkp
