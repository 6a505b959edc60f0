# sluicectl.bash - bash completion for sluicectl (source it, or install it as
# /usr/share/bash-completion/completions/sluicectl). Pods come from `sluicectl endpoint list`.

_sluicectl_pods()
{
	local opts=()
	[ -n "$1" ] && opts+=(--bpffs "$1")
	[ -n "$2" ] && opts+=(--state-dir "$2")
	sluicectl "${opts[@]}" -o json endpoint list 2>/dev/null |
		python3 -c 'import json,sys
for e in json.load(sys.stdin):
    if e.get("pod"): print(e["namespace"] + "/" + e["pod"])' 2>/dev/null
}

_sluicectl()
{
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local cmds="status endpoint policy ct counters monitor explain matrix help"
	local globals="--bpffs --state-dir -o --output --all -h --help"
	local bpffs="" state="" cmd="" sub="" i

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--bpffs) bpffs=${words[i + 1]} ;;
		--state-dir) state=${words[i + 1]} ;;
		-*) ;;
		*)
			if [ -z "$cmd" ] && [[ " $cmds " == *" ${words[i]} "* ]]; then
				cmd=${words[i]}
			elif [ -n "$cmd" ] && [ -z "$sub" ]; then
				sub=${words[i]}
			fi
			;;
		esac
	done
	case $prev in
	-o | --output)
		COMPREPLY=($(compgen -W "text json yaml" -- "$cur"))
		return
		;;
	--bpffs | --state-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--pod)
		COMPREPLY=($(compgen -W "$(_sluicectl_pods "$bpffs" "$state")" -- "$cur"))
		return
		;;
	--proto)
		COMPREPLY=($(compgen -W "tcp udp sctp icmp" -- "$cur"))
		return
		;;
	--verdict)
		COMPREPLY=($(compgen -W "drop allow" -- "$cur"))
		return
		;;
	--type)
		COMPREPLY=($(compgen -W "drop verdict" -- "$cur"))
		return
		;;
	--state)
		COMPREPLY=($(compgen -W "new syn-sent established closing" -- "$cur"))
		return
		;;
	--port)
		[ "$cmd" = matrix ] && COMPREPLY=($(compgen -W "80/tcp 80/udp 80/sctp icmp" -- "$cur"))
		return
		;;
	esac
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$cmds $globals" -- "$cur"))
		return
	fi
	case $cmd in
	endpoint)
		if [ -z "$sub" ]; then
			COMPREPLY=($(compgen -W "list get" -- "$cur"))
		elif [ "$sub" = get ]; then
			COMPREPLY=($(compgen -W "$(_sluicectl_pods "$bpffs" "$state")" -- "$cur"))
		fi
		;;
	policy)
		if [ -z "$sub" ]; then
			COMPREPLY=($(compgen -W "get" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--all $(_sluicectl_pods "$bpffs" "$state")" -- "$cur"))
		fi
		;;
	ct)
		if [ -z "$sub" ]; then
			COMPREPLY=($(compgen -W "list" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--pod --ip --proto --port --state" -- "$cur"))
		fi
		;;
	monitor)
		COMPREPLY=($(compgen -W "--pod -n --namespace --verdict --type --reason --count --timeout --backlog" -- "$cur"))
		;;
	matrix)
		COMPREPLY=($(compgen -W "-n --namespace --port" -- "$cur"))
		;;
	explain)
		COMPREPLY=($(compgen -W "$(_sluicectl_pods "$bpffs" "$state") 80/tcp 80/udp icmp" -- "$cur"))
		;;
	counters)
		COMPREPLY=($(compgen -W "--all" -- "$cur"))
		;;
	esac
}
complete -F _sluicectl sluicectl
