# gen FILE N SEED: a CSV of N texts on two topics (sports, food), sourced by the smoke tests;
# texts long enough for several 32-token windows.
gen() {
  local f=$1 n=$2 seed=$3
  local sports=(ball team goal match player score coach league) food=(bread cheese apple soup rice salad butter pasta)
  RANDOM=$seed
  echo "text,label" > "$f"
  for ((i = 0; i < n; i++)); do
    local lab=$((RANDOM % 2)) words=$((10 + RANDOM % 40)) t=""
    for ((j = 0; j < words; j++)); do
      if ((lab)); then t+="${sports[RANDOM % 8]} "; else t+="${food[RANDOM % 8]} "; fi
    done
    if ((lab)); then echo "\"$t\",sports" >> "$f"; else echo "\"$t\",food" >> "$f"; fi
  done
}
