"""Farmland for farm matching: MAFF 筆ポリゴン, the public 農地台帳 items, their links, crops and the summary."""
