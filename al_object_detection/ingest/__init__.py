"""Drop-folder ingestion: complete, checked, unique images join the pool; rejects are quarantined.

A file goes ``drop folder -> checks -> image store -> FiftyOne pool``. The image store is a
content-addressed folder (``<sha256>.<ext>``): moving a file there is the commit point, and
publishing adds every image store file whose hash the dataset lacks, so a crash at any instant
loses nothing and adds nothing twice.
"""
