"""Writers that turn LoadResults into what people and CI read."""
