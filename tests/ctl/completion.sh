#!/bin/bash
# completion.sh - agent/sluicectl.bash: commands, subcommands, option values (no agent needed).
set -u
. "$(dirname "$0")/../../agent/sluicectl.bash"
PASS=0
FAIL=0
# comp "WORDS..." EXPECTED-WORD: completing the last word offers EXPECTED-WORD
comp() {
	COMP_WORDS=($1)
	[ "${1: -1}" = " " ] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_sluicectl
	if [[ " ${COMPREPLY[*]} " == *" $2 "* ]]; then
		PASS=$((PASS + 1))
		echo "ok   '$1' offers $2"
	else
		FAIL=$((FAIL + 1))
		echo "FAIL '$1' offers $2: got '${COMPREPLY[*]}'"
	fi
}
comp "sluicectl ex" explain
comp "sluicectl mon" monitor
comp "sluicectl endpoint " get
comp "sluicectl policy " get
comp "sluicectl ct " list
comp "sluicectl -o y" yaml
comp "sluicectl monitor --verdict d" drop
comp "sluicectl ct list --state est" established
comp "sluicectl matrix --port 80/u" 80/udp
comp "sluicectl monitor --ba" --backlog
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
