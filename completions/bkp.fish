# fish completion for bkp. Kept in step with the command table by
# tests/cli/docs_test.cpp.

# backup stdin -- COMMAND ARGS...: complete COMMAND and its arguments as
# fish would on a line of their own.
function __bkp_after_dashdash
    contains -- -- (commandline -opc)
end
function __bkp_complete_command
    set -l tokens (commandline -opc)
    set -l i (contains -i -- -- $tokens)
    set -l rest $tokens[(math $i + 1)..-1]
    complete -C (string join ' ' -- (string escape -- $rest) (commandline -ct))
end

set -l commands audit backup catalog config copy diff forget help hold init keys ls prune release restore snapshots storage verify version wal-fetch wal-push
complete -c bkp -f

# Commands
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a backup -d 'back up files, PostgreSQL, or a stream from stdin or a command'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a catalog -d 'rebuild the local catalog from the storage'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a config -d 'show the effective configuration'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a copy -d 'copy snapshots into another repository'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a diff -d 'show what changed between two snapshots'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a forget -d 'remove snapshots'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a hold -d 'put a snapshot under legal hold'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a prune -d 'apply a retention policy and reclaim space'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a release -d 'remove a legal hold'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for bkp or for one command'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a init -d 'create a new repository'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a keys -d 'manage key slots and rotate keys'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a ls -d 'list the files in a snapshot'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a restore -d 'restore a snapshot'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a snapshots -d 'list snapshots'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a storage -d 'show storage usage and growth'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a verify -d 'check the repository integrity'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a version -d 'print the version and features'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a wal-fetch -d 'fetch an archived WAL file (restore_command)'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a wal-push -d 'archive a WAL file (archive_command)'

# Global options
complete -c bkp -s r -l repo -x -a '(__fish_complete_directories)' -d 'repository location'
complete -c bkp -l config -r -F -d 'configuration file'
complete -c bkp -l password-file -r -F -d 'read the passphrase from a file'
complete -c bkp -l password-command -x -a '(__fish_complete_command)' -d 'read the passphrase from a command'
complete -c bkp -l key-file -r -F -d 'open the repository with a key file'
complete -c bkp -l s3-endpoint -x -d 'URL of an S3-compatible service'
complete -c bkp -l storage-class -x -a 'STANDARD STANDARD_IA ONEZONE_IA INTELLIGENT_TIERING GLACIER_IR NEARLINE COLDLINE ARCHIVE' -d 'storage class of data packs on S3 or GCS'
complete -c bkp -l limit-upload -x -d 'most bytes per second sent to storage'
complete -c bkp -l limit-download -x -d 'most bytes per second read from storage'
complete -c bkp -l insecure-http -d 'allow plain http to storage not on this machine'
complete -c bkp -l key-command -x -a '(__fish_complete_command)' -d 'open the repository with the key a command prints'
complete -c bkp -s q -l quiet -d 'print nothing but errors'
complete -c bkp -s v -l verbose -d 'more detail'
complete -c bkp -l json -d 'one JSON object per line'
complete -c bkp -l no-progress -d 'never draw progress bars'
complete -c bkp -s h -l help -d 'show help'

# backup files|stdin|postgres
set -l backup_subs files stdin postgres
set -l in_files '__fish_seen_subcommand_from backup; and __fish_seen_subcommand_from files'
set -l in_stdin '__fish_seen_subcommand_from backup; and __fish_seen_subcommand_from stdin'
complete -c bkp -n "__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from $backup_subs" -a files -d 'back up file trees'
complete -c bkp -n "__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from $backup_subs" -a stdin -d "back up standard input or a command's output"
complete -c bkp -n $in_files -F -d 'file or directory to back up'
complete -c bkp -n $in_files -l exclude -x -d 'leave out paths matching a glob'
complete -c bkp -n $in_files -l exclude-file -r -F -d 'read exclude globs from a file'
complete -c bkp -n $in_files -l one-file-system -d 'do not cross file-system boundaries'
complete -c bkp -n $in_files -l type -x -a 'full incremental differential' -d 'backup type'
complete -c bkp -n $in_files -l tag -x -d 'tag the snapshot'
complete -c bkp -n $in_files -l source -x -d 'source name (default: host:paths)'
complete -c bkp -n $in_files -l key-domain -x -d 'seal this backup under a key domain'
complete -c bkp -n $in_files -l limit-rate -x -d 'read at most RATE bytes per second (e.g. 20M)'
complete -c bkp -n $in_files -l io-nice -x -a 'idle best-effort' -d 'I/O class, and CPU nice 19'
complete -c bkp -n $in_stdin -l name -x -d 'file name the stream is stored and restored as'
complete -c bkp -n $in_stdin -l tag -x -d 'tag the snapshot'
complete -c bkp -n $in_stdin -l key-domain -x -d 'seal this backup under a key domain'
complete -c bkp -n "$in_stdin; and __bkp_after_dashdash" -a '(__bkp_complete_command)'
complete -c bkp -n "__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from $backup_subs" -a postgres -d 'back up PostgreSQL databases'
set -l in_pg_backup '__fish_seen_subcommand_from backup; and __fish_seen_subcommand_from postgres'
complete -c bkp -n $in_pg_backup -l mode -x -a 'logical physical' -d 'backup mode'
complete -c bkp -n $in_pg_backup -l type -x -a 'full incremental differential' -d 'physical: backup type'
complete -c bkp -n $in_pg_backup -l pg-data -x -a '(__fish_complete_directories)' -d 'physical: the data directory'
complete -c bkp -n $in_pg_backup -l pg-via -x -a 'auto local replication' -d 'physical: read the data directory here or over replication'
complete -c bkp -n $in_pg_backup -l wal-timeout -x -d 'physical: seconds to wait for the last WAL segment'
complete -c bkp -n $in_pg_backup -l limit-rate -x -d 'physical: read at most RATE bytes per second'
complete -c bkp -n $in_pg_backup -l io-nice -x -a 'idle best-effort' -d 'physical: I/O class, and CPU nice 19'
complete -c bkp -n $in_pg_backup -l database -x -d 'database to dump'
complete -c bkp -n $in_pg_backup -l all-databases -d 'every database and the globals'
complete -c bkp -n $in_pg_backup -l tag -x -d 'tag the snapshot'
complete -c bkp -n $in_pg_backup -l key-domain -x -d 'seal this backup under a key domain'

# PostgreSQL connection (backup postgres, restore postgres)
set -l in_pg '__fish_seen_subcommand_from postgres'
complete -c bkp -n $in_pg -l pg-host -x -d 'server host or socket directory'
complete -c bkp -n $in_pg -l pg-port -x -d 'server port'
complete -c bkp -n $in_pg -l pg-user -x -d 'user name'
complete -c bkp -n $in_pg -l pg-database -x -d 'database to connect to'

# restore postgres
set -l in_pg_restore '__fish_seen_subcommand_from restore; and __fish_seen_subcommand_from postgres'
complete -c bkp -n "__fish_seen_subcommand_from restore; and not __fish_seen_subcommand_from postgres" -a postgres -d 'restore a PostgreSQL backup (logical, or physical to a point in time)'
complete -c bkp -n $in_pg_restore -l database -x -d 'database to restore into'
complete -c bkp -n $in_pg_restore -l from-database -x -d 'which database of an --all-databases snapshot'
complete -c bkp -n $in_pg_restore -l create -d 'create the target database first'
complete -c bkp -n $in_pg_restore -l globals-only -d 'apply only globals.sql of an --all-databases snapshot'
complete -c bkp -n $in_pg_restore -l jobs -x -d 'parallel pg_restore jobs'
complete -c bkp -n $in_pg_restore -l target-dir -x -a '(__fish_complete_directories)' -d 'physical: lay the data directory down here'
complete -c bkp -n $in_pg_restore -l to-time -x -d 'recover up to this time'
complete -c bkp -n $in_pg_restore -l to-lsn -x -d 'recover up to this LSN'
complete -c bkp -n $in_pg_restore -l to-xid -x -d 'recover up to this transaction id'
complete -c bkp -n $in_pg_restore -l latest -d 'recover to the end of the archived WAL'
complete -c bkp -n $in_pg_restore -l start -d 'start the server and wait until it is promoted'
complete -c bkp -n $in_pg_restore -l port -x -d 'port for the restored server'
complete -c bkp -n $in_pg_restore -l tablespace-map -x -d 'physical: restore tablespace OLD (directory or name) into NEW'

# wal-push PATH, wal-fetch NAME DEST
complete -c bkp -n '__fish_seen_subcommand_from wal-push wal-fetch' -F
complete -c bkp -n '__fish_seen_subcommand_from wal-push' -l key-domain -x -d 'seal the WAL file under a key domain'

# audit log|verify|export
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a audit -d "show, verify and export the repository's audit log"
complete -c bkp -n '__fish_seen_subcommand_from audit; and not __fish_seen_subcommand_from log verify export' -a 'log verify export'
complete -c bkp -n '__fish_seen_subcommand_from audit; and __fish_seen_subcommand_from log' -l since -x -d 'only entries at or after this time'
complete -c bkp -n '__fish_seen_subcommand_from audit; and __fish_seen_subcommand_from export' -s o -l output -r -d 'the file to write'
complete -c bkp -n '__fish_seen_subcommand_from audit; and __fish_seen_subcommand_from export' -l format -x -a 'jsonl csv' -d 'export format'

# catalog rebuild
complete -c bkp -n '__fish_seen_subcommand_from catalog; and not __fish_seen_subcommand_from rebuild' -a rebuild -d 'recreate the local catalog from the storage'

# config show
complete -c bkp -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from show' -a show -d 'print the effective configuration'
complete -c bkp -n '__fish_seen_subcommand_from config' -l origin -d 'say where each value came from'

# diff
complete -c bkp -n '__fish_seen_subcommand_from diff' -a latest -d 'the newest snapshot'

# help
complete -c bkp -n '__fish_seen_subcommand_from help' -a "$commands"

# init
complete -c bkp -n '__fish_seen_subcommand_from init' -a '(__fish_complete_directories)' -d 'where to create the repository'
complete -c bkp -n '__fish_seen_subcommand_from init' -l chunking-from -x -a '(__fish_complete_directories)' -d 'share chunking and chunk ids with this repository'
complete -c bkp -n '__fish_seen_subcommand_from init' -l compression -x -a 'zstd zstd:3 zstd:19 lz4 none' -d 'chunk compression'
complete -c bkp -n '__fish_seen_subcommand_from init' -l generate-key-file -d 'create the --key-file and use it instead of a passphrase'
complete -c bkp -n '__fish_seen_subcommand_from init' -l create-bucket -d 'create the bucket or container if it does not exist'

# ls
complete -c bkp -n '__fish_seen_subcommand_from ls' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from ls' -s l -l long -d 'show mode, owner, size and time'

# restore
complete -c bkp -n '__fish_seen_subcommand_from restore' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from restore' -s t -l target -x -a '(__fish_complete_directories)' -d 'directory to restore into'
complete -c bkp -n '__fish_seen_subcommand_from restore' -l include -x -d 'restore only paths matching'
complete -c bkp -n '__fish_seen_subcommand_from restore' -l exclude -x -d 'leave out paths matching'
complete -c bkp -n '__fish_seen_subcommand_from restore' -l overwrite -x -a 'never if-changed always' -d 'what to do with existing files'
complete -c bkp -n '__fish_seen_subcommand_from restore' -l verify -d 'read every restored file back and compare'
complete -c bkp -n '__fish_seen_subcommand_from restore' -l to-stdout -x -d 'write one file to standard output'
complete -c bkp -n '__fish_seen_subcommand_from restore' -l format -x -a tar -d 'write a tar archive instead of files'
complete -c bkp -n '__fish_seen_subcommand_from restore' -s o -l output -r -F -d 'archive file for --format'

# snapshots
complete -c bkp -n '__fish_seen_subcommand_from snapshots' -l source -x -d 'only snapshots of this source'
complete -c bkp -n '__fish_seen_subcommand_from snapshots' -l tag -x -d 'only snapshots with this tag'

# verify
complete -c bkp -n '__fish_seen_subcommand_from verify' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from verify' -l replicas -d 'also check that every replica agrees'
complete -c bkp -n '__fish_seen_subcommand_from verify' -l read-data -d 'also read and check every stored byte'
complete -c bkp -n '__fish_seen_subcommand_from verify' -l read-data-subset -x -a '5% 1/7' -d 'read only a part: N% or n/m'

# version
complete -c bkp -n '__fish_seen_subcommand_from version' -l features -d 'list compiled-in backends and sources'

# keys list|add|remove|rotate|shred
set -l keys_subs list add remove rotate shred
set -l in_keys_new '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from add rotate'
complete -c bkp -n "__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from $keys_subs" -a list -d "list the key slots and the keyring's data keys"
complete -c bkp -n "__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from $keys_subs" -a add -d 'add a key slot for a new passphrase or key'
complete -c bkp -n "__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from $keys_subs" -a remove -d 'remove a key slot'
complete -c bkp -n "__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from $keys_subs" -a rotate -d 'make a new data key current'
complete -c bkp -n "__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from $keys_subs" -a shred -d "destroy a key domain's keys"
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from shred' -l domain -x -d 'the key domain to shred'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from shred' -l yes -d 'do not ask for confirmation'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from shred' -l dry-run -d 'print the snapshots, change nothing'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from add' -l role -x -a 'admin restore backup' -d 'role of the new slot'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from rotate' -l rewrap -d 'also replace the master key'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from rotate' -l reencrypt -d 'seal everything again with the current key, destroy old keys'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from rotate' -l retire -r -d 'retire only this data key'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from rotate' -l grace -r -d 'wait before deleting old packs and keys'
complete -c bkp -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from rotate' -l dry-run -d 'print the plan, change nothing'
complete -c bkp -n $in_keys_new -l new-password-file -r -F -d 'the new passphrase is the first line of a file'
complete -c bkp -n $in_keys_new -l new-key-file -r -F -d 'the new secret is a key file'
complete -c bkp -n $in_keys_new -l generate-key-file -d 'create --new-key-file with a new random key'
complete -c bkp -n $in_keys_new -l new-key-command -x -a '(__fish_complete_command)' -d 'use the key a command prints as the new secret'

# forget, hold, release, prune
complete -c bkp -n '__fish_seen_subcommand_from forget' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from forget' -l dry-run -d 'show what would be removed'
complete -c bkp -n '__fish_seen_subcommand_from hold' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from hold' -l reason -x -d 'why it is held'
complete -c bkp -n '__fish_seen_subcommand_from release' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-last -x -d 'keep the newest N snapshots'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-hourly -x -d 'keep one for each of N hours'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-daily -x -d 'keep one for each of N days'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-weekly -x -d 'keep one for each of N weeks'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-monthly -x -d 'keep one for each of N months'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-yearly -x -d 'keep one for each of N years'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-within -x -a '7d 30d 1y' -d 'keep snapshots within DURATION of the newest'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l keep-tag -x -d 'keep snapshots with this tag'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l source -x -d 'apply the policy only to this source'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l dry-run -d 'print the plan, change nothing'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l max-repack-size -x -a '500M 2G' -d 'copy at most SIZE of live data'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l repack-threshold -x -d 'rewrite packs at least PCT percent unused'
complete -c bkp -n '__fish_seen_subcommand_from prune' -l grace -x -a '6h 1d 0' -d 'wait DURATION between marking and deleting'

# copy
complete -c bkp -n '__fish_seen_subcommand_from copy' -a latest -d 'the newest snapshot'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l from -x -a '(__fish_complete_directories)' -d 'the repository to copy from'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l to -x -a '(__fish_complete_directories)' -d 'the repository to copy into'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l from-password-file -r -F -d 'passphrase file of the source'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l from-password-command -x -a '(__fish_complete_command)' -d 'command printing the source passphrase'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l from-key-file -r -F -d 'key file of the source'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l from-key-command -x -a '(__fish_complete_command)' -d 'command printing the source key'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l to-password-file -r -F -d 'passphrase file of the target'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l to-password-command -x -a '(__fish_complete_command)' -d 'command printing the target passphrase'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l to-key-file -r -F -d 'key file of the target'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l to-key-command -x -a '(__fish_complete_command)' -d 'command printing the target key'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l source -x -d 'only snapshots of this source'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l dry-run -d 'list what would be copied, copy nothing'
complete -c bkp -n '__fish_seen_subcommand_from copy' -l no-wal -d 'copy snapshots only, not the WAL archive'

# storage usage
complete -c bkp -n '__fish_seen_subcommand_from storage; and not __fish_seen_subcommand_from usage' -a usage -d 'bytes and objects per type, and growth'
complete -c bkp -n '__fish_seen_subcommand_from storage' -l by -x -a 'day week month' -d 'growth per day, week or month'
