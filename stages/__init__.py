"""One thin click command per DVC stage: load its params section, call politune, write outputs atomically."""
