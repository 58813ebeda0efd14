# Shared by the reliability scripts (sourced): tiny inputs that make training take seconds.
fixture_words=(the cat sat on a mat dog ran in park free money now win prize click here offer for)

# write_tiny_vocab FILE: a 65-token WordPiece vocab (specials, the fixture words, a-z, ##a-##z).
write_tiny_vocab() {
  {
    printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n,\n!\n'
    for w in "${fixture_words[@]}"; do echo "$w"; done
    for c in a b c d e f g h i j k l m n o p q r s t u v w x y z; do echo "$c"; echo "##$c"; done
  } | awk '!seen[$0]++' >"$1"
}

# write_tiny_csv FILE N: N ham and N spam rows, text,label.
write_tiny_csv() {
  {
    echo "text,label"
    for i in $(seq 1 "$2"); do
      echo "the cat sat on a mat in the park $i,ham"
      echo "win free money now click here for a prize $i!,spam"
    done
  } >"$1"
}

# kill_when WHEN PID DIR: SIGKILLs PID once DIR/metrics.jsonl shows WHEN — step:N (N "log" lines,
# run with --logging-steps 1) or eval:N (the evaluation at step N, i.e. while that epoch's
# checkpoint is written) — or when PID has ended; waits for it; returns its exit status (137 = killed).
kill_when() {
  local when=$1 pid=$2 dir=$3 log
  while kill -0 "$pid" 2>/dev/null; do
    log=$(cat "$dir/metrics.jsonl" 2>/dev/null)
    case $when in
      step:*) [[ $(grep -c '"type":"log"' <<<"$log") -ge ${when#step:} ]] && break ;;
      eval:*) grep -q "\"type\":\"eval\",\"step\":${when#eval:}," <<<"$log" && break ;;
    esac
    sleep 0.002
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
