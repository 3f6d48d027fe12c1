/* driver_status.h — the state of a scheduler or executor driver, as Mesos's Status.
 *
 * Every call of a driver returns the driver's status: PX_DRIVER_RUNNING when the call
 * was taken, anything else when it was ignored because the driver is not running. */
#ifndef PX_DRIVER_STATUS_H
#define PX_DRIVER_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The values are Mesos's (mesos.proto, enum Status). */
enum px_driver_status {
	PX_DRIVER_NOT_STARTED = 1,
	PX_DRIVER_RUNNING = 2,
	PX_DRIVER_ABORTED = 3,
	PX_DRIVER_STOPPED = 4,
	/* Not one of Mesos's: the call was refused for its arguments (a message that cannot
	 * be encoded, a bad master address ...) and px_driver_error() says why; the driver
	 * itself goes on as before. */
	PX_DRIVER_INVALID_CALL = 5,
};

/* "DRIVER_RUNNING" ...; "DRIVER_UNKNOWN" for anything else. Static string. */
const char *px_driver_status_name(enum px_driver_status status);

/* Why the last driver call made on this thread failed: an alloc that returned NULL, a
 * start that did not start, a call that returned PX_DRIVER_INVALID_CALL. "" when the
 * last call succeeded. Valid until the thread's next driver call. */
const char *px_driver_error(void);

#ifdef __cplusplus
}
#endif

#endif
