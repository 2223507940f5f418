"""Language-variety identification: fr, ar, ary, ary_Latn, en or other (see ``identify``)."""
