"""The dataset: FiftyOne's store, its database (embedded or a MongoDB server), bulk pool
reads."""
