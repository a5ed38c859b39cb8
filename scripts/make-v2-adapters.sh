#!/bin/sh
# Rebuilds test/fixtures/tiny-llama-v2/lora-<domain>: the v2 family ships no LoRA adapters, so LoraHub's
# inputs are rank-8 adapters extracted from the v2 experts with modelevo's own extract-lora (truncated SVD).
set -e
cd "$(dirname "$0")/.."
for domain in literature code math; do
  node bin/modelevo.js extract-lora --model "test/fixtures/tiny-llama-v2/expert-$domain" \
    --base test/fixtures/tiny-llama/base --rank 8 --overwrite "test/fixtures/tiny-llama-v2/lora-$domain"
done
