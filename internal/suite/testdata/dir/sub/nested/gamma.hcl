this file is never loaded: subdirectories are not searched
