# What bash's programmable completion offers for a command line, as a user pressing Tab would
# get it.
#
#   bash --norc complete.bash SCRIPT LINE
#
# Loads the completion SCRIPT, splits LINE into words as readline does for a simple line, calls
# the function registered for `clickup-members` the way bash does, and prints every candidate,
# one per line. Exit 2 when nothing is registered for the command.
# shellcheck disable=SC1090,SC2034 # the script is an argument; COMP_* are read by the function
source "$1"
line=$2
COMP_LINE=$line
COMP_POINT=${#line}
read -ra COMP_WORDS <<<"$line"
if [[ $line == *' ' ]]; then
  COMP_WORDS+=('')
fi
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
spec=$(complete -p clickup-members 2>/dev/null) || {
  echo "nothing is registered for clickup-members" >&2
  exit 2
}
function=${spec##*-F }
function=${function%% *}
"$function" clickup-members "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
