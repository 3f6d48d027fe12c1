/* plexus.h — the whole framework SDK in one include: the drivers, the public messages
 * and their helpers, the builders, and libactor (with its protobuf support).
 *
 *     cc my_framework.c $(pkg-config --cflags --libs plexus)
 *
 * See docs/framework-guide.md. */
#ifndef PLEXUS_PLEXUS_H
#define PLEXUS_PLEXUS_H

#include "actor/libactor.h"
#include "actor/pb.h"
#include "plexus/driver_status.h"
#include "plexus/executor.h"
#include "plexus/message.h"
#include "plexus/plexus.pb-c.h"
#include "plexus/scheduler.h"
#include "plexus/task.h"
#include "plexus/util.h"
#include "plexus/version.h"

#endif
