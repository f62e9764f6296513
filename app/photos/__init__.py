"""Photos: upload, validation, normalisation, thumbnails, storage and serving."""
