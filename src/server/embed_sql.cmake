# Writes OUT, a C file holding every sql/NNNN.sql of SQL_DIR as a byte array,
# and the table declared in migrations.h. Run at build time (cmake -P) so a
# changed migration is always rebuilt into smimpd. NAME (default
# smd_migrations) names the table, so that each backend's dialect
# (sql/ for SQLite, sql/postgresql/ for PostgreSQL) has its own.
if(NOT DEFINED NAME)
  set(NAME smd_migrations)
endif()
file(GLOB files RELATIVE ${SQL_DIR} ${SQL_DIR}/[0-9][0-9][0-9][0-9].sql)
list(SORT files)
set(body "/* Generated from sql/NNNN.sql by embed_sql.cmake: do not edit. */\n")
string(APPEND body "#include \"migrations.h\"\n\n")
set(table "")
set(expect 1)
foreach(f ${files})
  string(SUBSTRING ${f} 0 4 num)
  math(EXPR version "${num}")
  if(NOT version EQUAL expect)
    message(FATAL_ERROR "${SQL_DIR}: migration ${expect} missing before ${f}")
  endif()
  math(EXPR expect "${expect} + 1")
  file(READ ${SQL_DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char sql_${num}[] = {${bytes}0x00};\n")
  string(APPEND table "\t{${version}, \"${f}\", sql_${num}},\n")
endforeach()
string(APPEND body "\nconst struct smd_migration ${NAME}[] = {\n${table}};\n")
string(APPEND body "const size_t ${NAME}_count =\n\tsizeof ${NAME} / sizeof ${NAME}[0];\n")
# Written every time this runs (only when a migration or the list of them
# changed): an output older than its inputs would make every target that
# lists it run this again, in parallel.
file(WRITE ${OUT} "${body}")
