/* app.js — the Plexus web UI. It keeps a model of the cluster from the master's v1
 * operator SUBSCRIBE stream (POST /api/v1: a snapshot, then TASK_ADDED, TASK_UPDATED,
 * AGENT_*, FRAMEWORK_* events in RecordIO framing) and renders the view named by the
 * URL's hash: #/ (overview), #/frameworks, #/agents, #/roles, #/sandbox/<fw>/<task>.
 * Nothing polls the whole state: the views change when events arrive. */
(function () {
	'use strict';

	var model = null;
	var sandboxShown = null; /* the hash of the sandbox view on screen */

	function emptyModel() {
		return { agents: {}, frameworks: {}, completed: {}, tasks: {} };
	}

	function taskKey(fw, task) {
		return fw + '/' + task;
	}

	function scalar(resources, name) {
		var sum = 0;
		(resources || []).forEach(function (r) {
			if (r.name === name && r.scalar) sum += r.scalar.value;
		});
		return Math.round(sum * 1000) / 1000;
	}

	function addTask(t) {
		model.tasks[taskKey(t.framework_id.value, t.task_id.value)] = t;
	}

	function applyState(st) {
		model = emptyModel();
		((st.get_agents || {}).agents || []).forEach(function (a) {
			model.agents[a.agent_info.id.value] = a;
		});
		var fws = st.get_frameworks || {};
		(fws.frameworks || []).forEach(function (f) {
			model.frameworks[f.framework_info.id.value] = f;
		});
		(fws.completed_frameworks || []).forEach(function (f) {
			model.completed[f.framework_info.id.value] = f;
		});
		var ts = st.get_tasks || {};
		(ts.tasks || []).concat(ts.completed_tasks || []).forEach(addTask);
	}

	function onEvent(ev) {
		switch (ev.type) {
		case 'SUBSCRIBED':
			applyState(ev.subscribed.get_state || {});
			break;
		case 'TASK_ADDED':
			addTask(ev.task_added.task);
			break;
		case 'TASK_UPDATED': {
			var u = ev.task_updated;
			var t = model.tasks[taskKey(u.framework_id.value, u.status.task_id.value)];
			if (t) {
				t.state = u.state;
				t.statuses = (t.statuses || []).concat([u.status]);
			}
			break;
		}
		case 'AGENT_ADDED':
			model.agents[ev.agent_added.agent.agent_info.id.value] = ev.agent_added.agent;
			break;
		case 'AGENT_REMOVED':
			delete model.agents[ev.agent_removed.agent_id.value];
			break;
		case 'FRAMEWORK_ADDED':
		case 'FRAMEWORK_UPDATED': {
			var f = (ev.framework_added || ev.framework_updated).framework;
			model.frameworks[f.framework_info.id.value] = f;
			break;
		}
		case 'FRAMEWORK_REMOVED': {
			var id = ev.framework_removed.framework_info.id.value;
			var gone = model.frameworks[id] || { framework_info: ev.framework_removed.framework_info };
			gone.active = false;
			gone.connected = false;
			model.completed[id] = gone;
			delete model.frameworks[id];
			break;
		}
		default:
			return; /* HEARTBEAT */
		}
		/* A sandbox view is fetched once; the others follow every event. */
		if (sandboxShown !== location.hash) render();
	}

	/* ---- the stream ---- */

	function concat(a, b) {
		var c = new Uint8Array(a.length + b.length);
		c.set(a, 0);
		c.set(b, a.length);
		return c;
	}

	/* Takes the whole RecordIO records off the front of buf; returns what is left. */
	function records(buf, each) {
		var decoder = new TextDecoder();
		for (;;) {
			var nl = buf.indexOf(10);
			if (nl < 0) return buf;
			var len = parseInt(decoder.decode(buf.subarray(0, nl)), 10);
			if (isNaN(len)) throw new Error('corrupt stream');
			if (buf.length - nl - 1 < len) return buf;
			each(JSON.parse(decoder.decode(buf.subarray(nl + 1, nl + 1 + len))));
			buf = buf.subarray(nl + 1 + len);
		}
	}

	function connected(up) {
		$('#connection').text(up ? 'live' : 'disconnected, retrying')
			.attr('class', up ? 'up' : 'down');
	}

	function subscribe() {
		fetch('/api/v1', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
			body: JSON.stringify({ type: 'SUBSCRIBE' })
		}).then(function (res) {
			if (!res.ok) throw new Error('HTTP ' + res.status);
			connected(true);
			var reader = res.body.getReader();
			var buf = new Uint8Array(0);
			function pump() {
				return reader.read().then(function (chunk) {
					if (chunk.done) throw new Error('stream ended');
					buf = records(concat(buf, chunk.value), onEvent);
					return pump();
				});
			}
			return pump();
		}).catch(function () {
			connected(false);
			setTimeout(subscribe, 2000);
		});
	}

	/* ---- views ---- */

	function esc(s) {
		return $('<div>').text(s === undefined || s === null ? '' : String(s)).html();
	}

	function table(headers, rows) {
		var h = '<table><tr>' + headers.map(function (x) { return '<th>' + esc(x) + '</th>'; }).join('') + '</tr>';
		rows.forEach(function (r) { h += '<tr>' + r.join('') + '</tr>'; });
		return h + '</table>';
	}

	function td(s) {
		return '<td>' + esc(s) + '</td>';
	}

	function values(o) {
		return Object.keys(o).sort().map(function (k) { return o[k]; });
	}

	function taskRows(filter) {
		return values(model.tasks).filter(filter).map(function (t) {
			var link = '#/sandbox/' + encodeURIComponent(t.framework_id.value) + '/' +
				encodeURIComponent(t.task_id.value);
			return ['<td class="task-id">' + esc(t.task_id.value) + '</td>', td(t.name),
				'<td class="state-' + esc(t.state) + '">' + esc(t.state) + '</td>',
				td(t.agent_id.value), td(scalar(t.resources, 'cpus')), td(scalar(t.resources, 'mem')),
				'<td><a class="sandbox" href="' + link + '">sandbox</a></td>'];
		});
	}

	var taskHeaders = ['task', 'name', 'state', 'agent', 'cpus', 'mem', ''];

	function overview() {
		var total = { cpus: 0, mem: 0, disk: 0 }, used = { cpus: 0, mem: 0, disk: 0 },
			offered = { cpus: 0, mem: 0, disk: 0 };
		values(model.agents).forEach(function (a) {
			['cpus', 'mem', 'disk'].forEach(function (n) {
				total[n] += scalar(a.total_resources, n);
				used[n] += scalar(a.allocated_resources, n);
				offered[n] += scalar(a.offered_resources, n);
			});
		});
		var states = {};
		values(model.tasks).forEach(function (t) { states[t.state] = (states[t.state] || 0) + 1; });
		var h = '<h2>Cluster</h2><div class="cards">' +
			'<div class="card">agents<b id="n-agents">' + Object.keys(model.agents).length + '</b></div>' +
			'<div class="card">frameworks<b id="n-frameworks">' + Object.keys(model.frameworks).length + '</b></div>' +
			'<div class="card">tasks<b id="n-tasks">' + Object.keys(model.tasks).length + '</b></div></div>';
		h += '<h2>Resources</h2>' + table(['', 'total', 'used', 'offered', 'idle'],
			['cpus', 'mem', 'disk'].map(function (n) {
				var idle = Math.round((total[n] - used[n] - offered[n]) * 1000) / 1000;
				return [td(n), td(total[n]), td(used[n]), td(offered[n]), td(idle)];
			}));
		h += '<h2>Tasks by state</h2>' + table(['state', 'tasks'], Object.keys(states).sort().map(function (s) {
			return ['<td class="state-' + esc(s) + '">' + esc(s) + '</td>', td(states[s])];
		}));
		h += '<h2>Frameworks and their shares</h2>' + frameworkTable(model.frameworks, total);
		return h;
	}

	function frameworkTable(fws, total) {
		return table(['id', 'name', 'role', 'active', 'cpus', 'mem', 'share'], values(fws).map(function (f) {
			var cpus = scalar(f.allocated_resources, 'cpus'), mem = scalar(f.allocated_resources, 'mem');
			var share = 0;
			if (total && total.cpus) share = Math.max(share, cpus / total.cpus);
			if (total && total.mem) share = Math.max(share, mem / total.mem);
			return [td(f.framework_info.id.value), td(f.framework_info.name),
				td(f.framework_info.role || (f.framework_info.roles || ['*'])[0] || '*'),
				td(f.active ? 'yes' : 'no'), td(cpus), td(mem), td((share * 100).toFixed(1) + '%')];
		}));
	}

	function frameworks() {
		var h = '<h2>Frameworks</h2>';
		[['Active', model.frameworks], ['Completed', model.completed]].forEach(function (p) {
			h += '<h3>' + p[0] + '</h3>';
			values(p[1]).forEach(function (f) {
				var id = f.framework_info.id.value;
				h += '<h4 class="framework">' + esc(f.framework_info.name) + ' <small>' + esc(id) + '</small></h4>';
				h += table(taskHeaders, taskRows(function (t) { return t.framework_id.value === id; }));
			});
		});
		return h;
	}

	function agents() {
		var h = '<h2>Agents</h2>';
		values(model.agents).forEach(function (a) {
			var id = a.agent_info.id.value;
			h += '<h4 class="agent">' + esc(a.agent_info.hostname) + ' <small>' + esc(id) + '</small> ' +
				esc(scalar(a.total_resources, 'cpus')) + ' cpus, ' + esc(scalar(a.total_resources, 'mem')) + ' MB</h4>';
			h += table(taskHeaders, taskRows(function (t) { return t.agent_id.value === id; }));
		});
		return h;
	}

	function roles() {
		var el = $('<div><h2>Roles</h2><div id="roles">loading</div><h2>Quota</h2><div id="quota">loading</div></div>');
		$.getJSON('/master/roles').done(function (r) {
			$('#roles').html(table(['role', 'weight', 'frameworks', 'cpus', 'mem'], (r.roles || []).map(function (x) {
				return [td(x.name), td(x.weight), td((x.frameworks || []).length),
					td((x.resources || {}).cpus), td((x.resources || {}).mem)];
			})));
		});
		$.getJSON('/quota').done(function (q) {
			$('#quota').html(table(['role', 'guarantee', 'limit'], (q.infos || []).map(function (x) {
				return [td(x.role), td(JSON.stringify(x.guarantee || [])), td(JSON.stringify(x.limit || []))];
			})));
		});
		return el;
	}

	/* The agent's HTTP address: its PID's IP and the port of its AgentInfo. */
	function agentBase(a) {
		var m = /^([^@]+)@([^:]+):/.exec(a.pid || '');
		var host = m ? m[2] : location.hostname;
		var port = a.agent_info.port || location.port;
		return { url: 'http://' + host + ':' + port, id: m ? m[1] : 'slave(1)' };
	}

	function sandbox(fw, task) {
		var el = $('<div><h2>Sandbox of task <span class="task-id"></span></h2>' +
			'<div id="files">loading</div><h3>stdout</h3><pre class="tail" id="stdout"></pre>' +
			'<h3>stderr</h3><pre class="tail" id="stderr"></pre></div>');
		el.find('.task-id').text(task);
		var t = model.tasks[taskKey(fw, task)];
		var a = t && model.agents[t.agent_id.value];
		if (!a) {
			el.find('#files').text('unknown task or agent');
			return el;
		}
		var base = agentBase(a);
		$.getJSON(base.url + '/' + base.id + '/state').done(function (st) {
			var dir = null;
			(st.frameworks || []).concat(st.completed_frameworks || []).forEach(function (f) {
				if (f.id !== fw) return;
				(f.executors || []).concat(f.completed_executors || []).forEach(function (e) {
					var all = (e.tasks || []).concat(e.queued_tasks || [], e.completed_tasks || []);
					if (all.some(function (x) { return x.id === task; })) dir = e.directory;
				});
			});
			if (!dir) {
				$('#files').text('no sandbox for this task on its agent');
				return;
			}
			var files = base.url + '/files';
			$.getJSON(files + '/browse', { path: dir }).done(function (list) {
				$('#files').html(table(['file', 'size', ''], list.map(function (f) {
					var name = f.path.split('/').pop();
					return [td(name), td(f.size), '<td><a class="download" href="' + files +
						'/download?path=' + encodeURIComponent(f.path) + '">download</a></td>'];
				})));
			});
			['stdout', 'stderr'].forEach(function (name) {
				var path = dir + '/' + name;
				$.getJSON(files + '/read', { path: path, offset: -1 }).done(function (end) {
					var from = Math.max(0, end.offset - 16384);
					$.getJSON(files + '/read', { path: path, offset: from, length: 16384 }).done(function (r) {
						$('#' + name).text(r.data);
					});
				});
			});
		}).fail(function () {
			$('#files').text('the agent does not answer at ' + base.url);
		});
		return el;
	}

	function render() {
		var view = $('#view');
		if (model === null) {
			view.text('waiting for the master');
			return;
		}
		var h = location.hash || '#/';
		var m = /^#\/sandbox\/([^/]+)\/(.+)$/.exec(h);
		sandboxShown = m ? h : null;
		if (m) view.empty().append(sandbox(decodeURIComponent(m[1]), decodeURIComponent(m[2])));
		else if (h === '#/frameworks') view.html(frameworks());
		else if (h === '#/agents') view.html(agents());
		else if (h === '#/roles') view.empty().append(roles());
		else view.html(overview());
	}

	$(function () {
		$(window).on('hashchange', render);
		render();
	});
	/* The stream never ends: it starts once the page has loaded, so that the page counts
	 * as loaded (for browsers and tools that wait for that). */
	$(window).on('load', function () {
		setTimeout(subscribe, 0);
	});
})();
