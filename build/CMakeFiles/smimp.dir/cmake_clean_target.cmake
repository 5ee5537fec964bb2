file(REMOVE_RECURSE
  "libsmimp.a"
)
