package unigram

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ModelProto field numbers (sentencepiece_model.proto). Only these are read;
// every other field is skipped.
const (
	fieldPieces         = 1 // repeated SentencePiece
	fieldTrainerSpec    = 2
	fieldNormalizerSpec = 3

	fieldPiece = 1 // SentencePiece.piece
	fieldScore = 2 // SentencePiece.score (float)
	fieldType  = 3 // SentencePiece.type (NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6)

	fieldModelType    = 3  // TrainerSpec.model_type (UNIGRAM 1, BPE 2, WORD 3, CHAR 4; default 1)
	fieldByteFallback = 35 // TrainerSpec.byte_fallback
	fieldUnkID        = 40 // TrainerSpec.unk_id (default 0)

	fieldCharsmap = 2 // NormalizerSpec.precompiled_charsmap
)

// SentencePiece.Type values the loader acts on.
const (
	pieceControl     = 3
	pieceUserDefined = 4
)

// parseModelProto decodes the ModelProto fields the tokenizer uses with
// protowire (google.golang.org/protobuf's wire-format reader; no generated
// code is needed for five fields). Malformed input is an error, never a panic.
func parseModelProto(b []byte) (*modelProto, error) {
	m := &modelProto{modelType: 1}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == fieldPieces && typ == protowire.BytesType:
			if len(m.pieces) >= MaxPieces {
				return fmt.Errorf("more than %d pieces", MaxPieces)
			}
			p, s, t, err := parsePiece(v)
			if err != nil {
				return fmt.Errorf("piece %d: %v", len(m.pieces), err)
			}
			m.pieces, m.scores, m.types = append(m.pieces, p), append(m.scores, s), append(m.types, t)
		case num == fieldTrainerSpec && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case fieldModelType:
					m.modelType = int64(x)
				case fieldByteFallback:
					m.byteFallback = x != 0
				case fieldUnkID:
					m.unk = int(int32(x))
				}
				return nil
			})
		case num == fieldNormalizerSpec && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num == fieldCharsmap && typ == protowire.BytesType {
					m.charsmap = v
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("not a SentencePiece model: %v", err)
	}
	if len(m.pieces) == 0 {
		return nil, errors.New("not a SentencePiece model: it has no pieces")
	}
	return m, nil
}

func parsePiece(b []byte) (piece string, score float64, typ int64, err error) {
	typ = 1
	has := false
	err = eachField(b, func(num protowire.Number, t protowire.Type, v []byte, x uint64) error {
		switch {
		case num == fieldPiece && t == protowire.BytesType:
			piece, has = string(v), true
		case num == fieldScore && t == protowire.Fixed32Type:
			score = float64(math.Float32frombits(uint32(x)))
		case num == fieldType && t == protowire.VarintType:
			typ = int64(x)
		}
		return nil
	})
	if err == nil && !has {
		err = errors.New("no piece string")
	}
	return
}

// eachField calls f for each field of a message: v is the payload of a
// length-delimited field, x the value of a varint or fixed field.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
