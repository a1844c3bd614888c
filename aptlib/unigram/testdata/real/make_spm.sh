#!/bin/sh
# make_spm.sh trains testdata/real/spm.model with Google's SentencePiece
# (Debian package "sentencepiece", spm_train 0.1.97) on train.txt, text written
# for these tests: a Unigram model with the stock nmt_nfkc normalization rules
# (its real precompiled charsmap) and DeBERTa-v3's special pieces and ids
# ([PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3). fixture_test.go then writes
# tokenizer.json from it as transformers' DebertaV2Converter does, and
# gen_golden.mjs encodes both with HF tokenizers and SentencePiece.
#   apt-get install sentencepiece && cd aptlib/unigram/testdata/real && sh make_spm.sh
set -e
spm_train --input=train.txt --model_prefix=spm --model_type=unigram --vocab_size=400 \
  --normalization_rule_name=nmt_nfkc --character_coverage=0.995 \
  --pad_id=0 --pad_piece='[PAD]' --bos_id=1 --bos_piece='[CLS]' --eos_id=2 --eos_piece='[SEP]' \
  --unk_id=3 --unk_piece='[UNK]' --num_threads=1 --seed_sentencepiece_size=20000 \
  --shuffle_input_sentence=false --minloglevel=1
rm -f spm.vocab
