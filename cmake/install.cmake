# Installing Plexus as a library people build against (`./build.sh install PREFIX` or
# `cmake --install`):
#   include/actor/*.h, include/plexus/*.h   the public headers, and nothing internal
#   lib/libactor.{a,so}                      the runtime
#   lib/libactor-pb.{a,so}                   its protobuf-c typed handlers (opt-in)
#   lib/libplexus.{a,so}                     the SDK: drivers, public messages, builders,
#                                            and what the in-process test cluster runs
#                                            (master and agent), as libmesos holds them
#   lib/pkgconfig/{libactor,libactor-pb,plexus}.pc
#   lib/cmake/Plexus/                        find_package(Plexus): Plexus::actor,
#                                            Plexus::actor_pb, Plexus::plexus
#   bin/plexus, bin/plexus-executor, bin/plexus-<framework>
# The in-tree libraries stay static; the shared ones are linked from the same objects.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PX_SDK_LIBS plexus_proto plexus_common plexus_driver plexus_allocator plexus_webui plexus_master
	plexus_agent plexus_testing)
set(PX_SDK_OBJECTS)
foreach(lib ${PX_SDK_LIBS})
	list(APPEND PX_SDK_OBJECTS $<TARGET_OBJECTS:${lib}>)
endforeach()
# What libplexus's objects need besides libactor (keep in step with the libraries'
# own link lines); PX_PLEXUS_PRIVATE_LIBS is the same for pkg-config --static.
set(PX_SDK_PRIVATE_DEPS nng::nng ev_lib PkgConfig::JANSSON PkgConfig::CURL PkgConfig::LIBARCHIVE m)
set(PX_ACTOR_PRIVATE_LIBS "-lnng -lev -ljansson -lpthread")
set(PX_PLEXUS_PRIVATE_LIBS "-lnng -lev -ljansson -lcurl -larchive -lm")

set(PX_INSTALL_INCLUDE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(actor_shared SHARED $<TARGET_OBJECTS:actor>)
target_link_libraries(actor_shared PUBLIC Threads::Threads
	PRIVATE nng::nng ev_lib PkgConfig::JANSSON)
target_include_directories(actor_shared INTERFACE ${PX_INSTALL_INCLUDE})

add_library(actor_pb_shared SHARED $<TARGET_OBJECTS:actor_pb>)
target_link_libraries(actor_pb_shared PUBLIC actor_shared PkgConfig::PROTOBUFC)

add_library(plexus_shared SHARED ${PX_SDK_OBJECTS})
target_link_libraries(plexus_shared PUBLIC actor_shared actor_pb_shared PkgConfig::PROTOBUFC
	PRIVATE ${PX_SDK_PRIVATE_DEPS})

add_library(plexus_static STATIC ${PX_SDK_OBJECTS})

set_target_properties(actor_shared PROPERTIES OUTPUT_NAME actor EXPORT_NAME actor
	VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
set_target_properties(actor_pb_shared PROPERTIES OUTPUT_NAME actor-pb EXPORT_NAME actor_pb
	VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
set_target_properties(plexus_shared PROPERTIES OUTPUT_NAME plexus EXPORT_NAME plexus
	VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
# Each shared library finds the others beside it, wherever the prefix is.
set_target_properties(actor_shared actor_pb_shared plexus_shared PROPERTIES
	INSTALL_RPATH "$ORIGIN")
set_target_properties(actor_pb plexus_static PROPERTIES ARCHIVE_OUTPUT_DIRECTORY
	${CMAKE_BINARY_DIR}/lib)
set_target_properties(actor_pb PROPERTIES OUTPUT_NAME actor-pb)
set_target_properties(plexus_static PROPERTIES OUTPUT_NAME plexus)
# The shared libraries are only for installing: build them with `cmake --install`'s
# build, not with every test build.
set_target_properties(actor_shared actor_pb_shared plexus_shared plexus_static PROPERTIES
	EXCLUDE_FROM_ALL ON)
add_custom_target(sdk DEPENDS actor_shared actor_pb_shared plexus_shared plexus_static)

install(TARGETS actor_shared actor_pb_shared plexus_shared EXPORT PlexusTargets
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS actor actor_pb plexus_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/libactor/include/actor
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/plexus ${PLEXUS_SDK_GEN_INCLUDE}/plexus
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS plexus plexus-executor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

foreach(pc libactor libactor-pb plexus)
	configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/${pc}.pc @ONLY)
	install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/${pc}.pc
		DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

install(EXPORT PlexusTargets NAMESPACE Plexus::
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Plexus)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/PlexusConfig.cmake.in
	${CMAKE_BINARY_DIR}/PlexusConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Plexus)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/PlexusConfigVersion.cmake
	COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/PlexusConfig.cmake ${CMAKE_BINARY_DIR}/PlexusConfigVersion.cmake
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Plexus)
