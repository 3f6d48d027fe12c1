# actor.protobuf_handler needs C generated from protobuf_handler.proto (in the build tree).
find_program(PROTOC_C_BENCH NAMES protoc-c protoc-gen-c REQUIRED)
set(pb_gen ${CMAKE_CURRENT_BINARY_DIR}/pbgen)
file(MAKE_DIRECTORY ${pb_gen})
add_custom_command(
	OUTPUT ${pb_gen}/protobuf_handler.pb-c.c ${pb_gen}/protobuf_handler.pb-c.h
	COMMAND ${PROTOC_C_BENCH} --c_out=${pb_gen} -I${CMAKE_CURRENT_SOURCE_DIR}/actor
		${CMAKE_CURRENT_SOURCE_DIR}/actor/protobuf_handler.proto
	DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/actor/protobuf_handler.proto
	COMMENT "protoc-c bench/actor/protobuf_handler.proto"
	VERBATIM)
target_sources(${target} PRIVATE ${pb_gen}/protobuf_handler.pb-c.c)
target_include_directories(${target} PRIVATE ${pb_gen})
target_link_libraries(${target} PRIVATE actor_pb)
