/* control.h — the control messages between the nimbus and its workers, carried as
 * framework messages (so they follow the framework through a scheduler failover), in
 * JSON:
 *   nimbus -> worker  {"type":"assign","epoch":E,"nworkers":N,"active":B,
 *                      "workers":["ip:port"|"",...]}
 *                    (spouts emit only in an active assignment: the first one becomes
 *                    active once every worker has started its tasks, so no tuple is
 *                    sent to an executor that does not exist yet)
 *   worker -> nimbus  {"type":"heartbeat","task_id":T,"worker":I,"epoch":E,
 *                      "address":"ip:port","pid":P,"tasks":[{"task":K,"component":C,...}]}
 *   worker task data  {"topology":NAME,"worker":I,"conf":{K:V,...}} */
#ifndef STM_CONTROL_H
#define STM_CONTROL_H

#define STM_HEARTBEAT_MS 500

#endif
