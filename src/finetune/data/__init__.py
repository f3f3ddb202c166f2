"""DataModules for text (`text`) and image (`image`) classification, and where text data comes from
(`text_sources`)."""
