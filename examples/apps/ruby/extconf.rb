require "mkmf"
create_makefile("answer")
