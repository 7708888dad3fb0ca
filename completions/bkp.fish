# fish completion for bkp. Kept in step with the command table by
# tests/cli/docs_test.cpp.

set -l commands config help version
complete -c bkp -f
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a config -d 'show the effective configuration'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for bkp or for one command'
complete -c bkp -n "not __fish_seen_subcommand_from $commands" -a version -d 'print the version and features'

# Global options
complete -c bkp -s r -l repo -r -d 'repository location'
complete -c bkp -l config -r -F -d 'configuration file'
complete -c bkp -l password-file -r -F -d 'read the passphrase from a file'
complete -c bkp -l password-command -r -d 'read the passphrase from a command'
complete -c bkp -s q -l quiet -d 'print nothing but errors'
complete -c bkp -s v -l verbose -d 'more detail'
complete -c bkp -l json -d 'one JSON object per line'
complete -c bkp -l no-progress -d 'never draw progress bars'
complete -c bkp -s h -l help -d 'show help'

# config
complete -c bkp -n '__fish_seen_subcommand_from config' -a show -d 'print the effective configuration'
complete -c bkp -n '__fish_seen_subcommand_from config' -l origin -d 'say where each value came from'
# help
complete -c bkp -n '__fish_seen_subcommand_from help' -a "$commands"
# version
complete -c bkp -n '__fish_seen_subcommand_from version' -l features -d 'list compiled-in backends and sources'
