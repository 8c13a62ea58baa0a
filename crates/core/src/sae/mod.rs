//! Sparse autoencoders and semi-NMF on model activations (being written).
