"""Getting files into layers: readers, column mapping, the importer, the bundled loader and derived zones."""
