# Empty dependencies file for smimp.
# This may be replaced when dependencies are built.
