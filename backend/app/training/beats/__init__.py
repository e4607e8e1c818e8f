"""Training the beat model: songs with exact beat labels, their features and targets, the network."""
