"""OGC API Features building blocks without web types: CQL2, CRS, items parameters and items SQL."""
