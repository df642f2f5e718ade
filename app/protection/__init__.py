"""Child protection: strategy discussions, section 47 enquiries, conferences and CP plans."""
