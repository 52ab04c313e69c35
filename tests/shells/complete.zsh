#!/usr/bin/env zsh
# What zsh's completion system offers for a command line, as a user pressing Tab would get it.
#
#   zsh complete.zsh SCRIPT LINE
#
# Starts an interactive zsh on a pseudo-terminal (zsh/zpty), loads compinit and the completion
# SCRIPT, types LINE and a Tab, and prints every candidate the completion functions offered,
# one per line. Exit 0 when the completion ran, 2 when it could not be captured.
zmodload zsh/zpty || { print -u2 'zsh/zpty is missing'; exit 2 }
script=$1 line=$2
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; autoload -U compinit && compinit -u -D"
zpty -w z "source ${(q)script}"
# Candidates are caught where completion functions hand them over (compadd), printed between
# two markers, and the shell quits once the completion is done.
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -O __hits "$@"
  local h; for h in $__hits; do print -r -- "CAND""IDATE:$h"; done
}'
zpty -w z 'comppostfuncs=( __done ); __done() { print -r -- "COMPLETION""-DONE"; exit }'
zpty -w z 'bindkey "^I" complete-word'
zpty -w -n z "$line"$'\t'
integer seen=0
zmodload zsh/datetime
float deadline=$(( EPOCHREALTIME + 15 ))
while (( ! seen && EPOCHREALTIME < deadline )); do
  if ! zpty -r -t z out 2>/dev/null; then sleep 0.05; continue; fi
  for l in ${(f)out}; do
    l=${l%$'\r'}
    # The markers are spelt in two parts above, so that the echo of what was typed never
    # matches them; the terminal may put control sequences before them on a line.
    [[ $l == *CANDIDATE:* ]] && print -r -- ${l#*CANDIDATE:}
    [[ $l == *COMPLETION-DONE* ]] && { seen=1; break }
  done
done
zpty -d z
(( seen )) || { print -u2 "the completion of \"$line\" did not run"; exit 2 }
