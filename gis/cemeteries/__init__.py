"""The cemetery ledger for residents: find a cemetery by name (kana/kanji, small typos) or the nearest ones."""
