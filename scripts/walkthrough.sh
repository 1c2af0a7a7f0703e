#!/usr/bin/env bash
# A short scripted walkthrough of the laptop app on a fresh home directory: a customer, a visit
# with stock seen, a quotation with three lines and a discount, an order from it, and history.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p fieldsync-client --bin fieldsync
home="${1:-$(mktemp -d)}"
fs() { ./target/debug/fieldsync --home "$home" "$@"; }
id() { sed -n 's/.*"id": "\([^"]*\)".*/\1/p' | head -n 1; }

echo "== home: $home"
fs init --user zhang.wei --device laptop-zw --tz Asia/Shanghai
customer=$(fs --json customer add "上海华东食品有限公司" --region EAST-SH --phone "021-5555 0101" \
  --kind wholesaler --grade key --credit-limit 50000 --contact "王经理,采购经理,13800000001" | id)
fs product add BEER-500 "啤酒 500ml" --unit 箱 --price 19.99
fs visit add --customer "$customer" --at "2026-11-30 14:00" --purpose 新品推广 \
  --stock BEER-500:B20261101:40 --outcome 有订货意向 --follow-up 2026-12-07
quote=$(fs --json quote new --customer "$customer" --valid-until 2026-12-31 | id)
fs quote add-line "$quote" --product BEER-500 --qty 3 --discount 7.5
fs quote add-line "$quote" --product CUP --qty 1 --price 0.1
fs quote add-line "$quote" --product LID --qty 1 --price 0.2
fs quote show "$quote"
fs order from-quote "$quote" --delivery-region EAST-SH --delivery-deadline 2026-12-15
fs customer edit "$customer" --phone "021-6666 0202"
fs customer list
fs history "$customer"
fs status
