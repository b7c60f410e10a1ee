// The manager console: plain JavaScript over the GraphQL API, no build step.
// Pages are routed by the URL hash; every figure comes from one GraphQL
// request per page. Tokens live for the tab (sessionStorage) and are
// refreshed a minute before they expire.
(function () {
  'use strict';

  // ------------------------------------------------------------ i18n
  var TEXT = {
    zh: {
      brand: '经销商 CRM', signIn: '登录', signOut: '退出', username: '用户名', password: '密码',
      dashboard: '总览', leads: '线索', tasks: '任务', complaints: '投诉', reports: '报表', plans: '计划与目标',
      customers: '客户', screenPop: '来电弹屏', outbox: '消息队列', staff: '员工', settings: '门店设置',
      forbidden: '您的角色无权打开此页面。', loading: '加载中…', save: '保存', saved: '已保存', run: '查询',
      csv: '下载 CSV', assign: '分配', reassign: '转派', retry: '重新发送', create: '新建', deactivate: '停用',
      leadsMonth: '本月线索', conversion: '成交转化率', carEntries: '本月进厂台次', revenue: '本月维修产值(元)',
      complaintsMonth: '本月投诉', complaintsOverdue: '超期投诉', csi: '售后满意度', tasksOverdue: '超期任务',
      trendAlert: '上月进厂台次或维修产值低于此前几个月的均值（见门店设置）', funnel: '销售漏斗', trend: '进厂与产值趋势', byChannel: '线索渠道', byStore: '各门店进厂台次',
      contacted: '已联系', testDriven: '已试驾', ordered: '已下订', delivered: '已交车', lost: '战败',
      from: '开始日期', to: '结束日期', period: '周期', by: '分组', store: '门店', all: '全部', model: '车型',
      channel: '渠道', grade: '意向级别', dealerGrade: '经销商级别', city: '城市', report: '报表',
      rFunnel: '销售漏斗', rService: '售后服务', rComplaints: '投诉', rFollowUp: '回访与索赔', rScorecard: '员工绩效', rValue: '客户价值',
      unassigned: '待分配线索', lateFirstResponse: '首次响应超时', dormant: '休眠线索', openLeads: '跟进中的线索', consultant: '销售顾问', customer: '客户', status: '状态', createdAt: '创建时间', due: '截止',
      overdueByStaff: '各员工超期任务', fromStaff: '原负责人', toStaff: '新负责人', open: '未完成', overdue: '超期',
      sla: 'SLA 时钟', response: '响应', resolution: '解决', received: '受理时间', severity: '严重程度', owner: '负责人',
      month: '月份', target: '目标', minimum: '最低', actual: '实际', title: '标题', kind: '类型', method: '方式',
      startsOn: '开始', endsOn: '结束', content: '内容', purpose: '目的', setTarget: '设置目标', units: '交车台数',
      serviceRevenue: '维修产值(分)', newCustomers: '新客户', receivables: '回款(分)', attainment: '达成率',
      search: '搜索姓名或手机号', phone: '来电号码', lookUp: '查询', live: '实时', notFound: '未找到客户',
      vehicles: '车辆', log: '客户日志', standing: '客户状态', dead: '发送失败的消息', summary: '各状态数量',
      name: '姓名', role: '角色', active: '在职', mobile: '手机', newStaff: '新建员工', setting: '设置', value: '值',
      range: '范围', drives: '作用', none: '无数据', total: '合计', topShare: '前 20% 客户收入占比',
      stage: '生命周期', segment: '价值分层', requeued: '已重新排队', failed: '操作失败', done: '完成'
    },
    en: {
      brand: 'Dealer CRM', signIn: 'Sign in', signOut: 'Sign out', username: 'Username', password: 'Password',
      dashboard: 'Dashboard', leads: 'Leads', tasks: 'Tasks', complaints: 'Complaints', reports: 'Reports', plans: 'Plans & targets',
      customers: 'Customers', screenPop: 'Screen pop', outbox: 'Outbox', staff: 'Staff', settings: 'Store settings',
      forbidden: 'Your role cannot open this page.', loading: 'Loading…', save: 'Save', saved: 'Saved', run: 'Run',
      csv: 'Download CSV', assign: 'Assign', reassign: 'Reassign', retry: 'Retry', create: 'Create', deactivate: 'Deactivate',
      leadsMonth: 'Leads this month', conversion: 'Conversion', carEntries: 'Car entries this month', revenue: 'Service revenue (yuan)',
      complaintsMonth: 'Complaints this month', complaintsOverdue: 'Overdue complaints', csi: 'Service CSI', tasksOverdue: 'Overdue tasks',
      trendAlert: 'Last month\'s car entries or service revenue fell below the months before (see store settings)', funnel: 'Sales funnel', trend: 'Car entries and revenue', byChannel: 'Leads by channel', byStore: 'Car entries by store',
      contacted: 'Contacted', testDriven: 'Test-driven', ordered: 'Ordered', delivered: 'Delivered', lost: 'Lost',
      from: 'From', to: 'To', period: 'Period', by: 'Group by', store: 'Store', all: 'All', model: 'Model',
      channel: 'Channel', grade: 'Intent grade', dealerGrade: 'Dealer grade', city: 'City', report: 'Report',
      rFunnel: 'Sales funnel', rService: 'Service', rComplaints: 'Complaints', rFollowUp: 'Revisits & claims', rScorecard: 'Staff scorecard', rValue: 'Customer value',
      unassigned: 'Unassigned leads', lateFirstResponse: 'First response late', dormant: 'Dormant leads', openLeads: 'Open leads', consultant: 'Consultant', customer: 'Customer', status: 'Status', createdAt: 'Created', due: 'Due',
      overdueByStaff: 'Overdue tasks by staff', fromStaff: 'From', toStaff: 'To', open: 'Open', overdue: 'Overdue',
      sla: 'SLA clocks', response: 'Response', resolution: 'Resolution', received: 'Received', severity: 'Severity', owner: 'Owner',
      month: 'Month', target: 'Target', minimum: 'Minimum', actual: 'Actual', title: 'Title', kind: 'Kind', method: 'Method',
      startsOn: 'Starts', endsOn: 'Ends', content: 'Content', purpose: 'Purpose', setTarget: 'Set target', units: 'Units',
      serviceRevenue: 'Service revenue (fen)', newCustomers: 'New customers', receivables: 'Receivables (fen)', attainment: 'Attainment',
      search: 'Search name or mobile', phone: 'Caller number', lookUp: 'Look up', live: 'live', notFound: 'No customer found',
      vehicles: 'Vehicles', log: 'Customer log', standing: 'Standing', dead: 'Dead letters', summary: 'Counts by status',
      name: 'Name', role: 'Role', active: 'Active', mobile: 'Mobile', newStaff: 'New staff member', setting: 'Setting', value: 'Value',
      range: 'Range', drives: 'What it drives', none: 'No data', total: 'Total', topShare: 'Revenue share of the top 20 %',
      stage: 'Lifecycle stage', segment: 'Segment', requeued: 'Requeued', failed: 'Failed', done: 'Done'
    }
  };
  var lang = localStorage.getItem('crm.lang') || 'zh';
  function t(k) { return (TEXT[lang] && TEXT[lang][k]) || k; }
  var labels = {};
  function label(e, v) {
    var m = labels[e] && labels[e][v];
    return m ? (lang === 'zh' ? m.zhCN : m.en) : (v == null ? '' : String(v));
  }

  // --------------------------------------------------------- helpers
  function $(id) { return document.getElementById(id); }
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v == null || v === false) return;
      if (k === 'on') Object.keys(v).forEach(function (ev) { el.addEventListener(ev, v[ev]); });
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    });
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, c) {
    if (c == null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    el.appendChild(c.nodeType ? c : document.createTextNode(String(c)));
  }
  function num(v, digits) {
    if (v == null) return '—';
    return Number(v).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: digits == null ? 2 : digits });
  }
  function pct(v) { return v == null ? '—' : (Math.round(v * 1000) / 10) + '%'; }
  function yuan(fen) { return fen == null ? '—' : num(fen / 100, 0); }
  function time(s) { return s ? new Date(s).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US', { hour12: false }) : '—'; }
  // The store's today, from the server (the browser's clock and zone may differ).
  var serverToday = null;
  function today() { if (serverToday) return serverToday; var d = new Date(); return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
  function pad(n) { return n < 10 ? '0' + n : '' + n; }
  function monthStart() { return today().slice(0, 8) + '01'; }
  function thisMonth() { return today().slice(0, 7); }
  function table(cols, rows, testid) {
    return h('div', { class: 'scroll' }, h('table', { 'data-testid': testid },
      h('thead', {}, h('tr', {}, cols.map(function (c) { return h('th', { class: c.n ? 'n' : null }, c.title); }))),
      h('tbody', {}, rows.length ? rows.map(function (r) {
        return h('tr', {}, cols.map(function (c) { return h('td', { class: c.n ? 'n' : null }, c.cell(r)); }));
      }) : h('tr', {}, h('td', { colspan: cols.length, class: 'muted' }, t('none'))))));
  }
  function badge(v, e) { return h('span', { class: 'badge ' + v }, e ? label(e, v) : v); }
  function errors(payload) {
    var es = (payload && payload.userErrors) || [];
    return es.map(function (e) { return (e.field ? e.field + ': ' : '') + e.message; }).join('; ');
  }

  // ------------------------------------------------------------ auth
  var session = JSON.parse(sessionStorage.getItem('crm.session') || 'null');
  var timer = null;
  var AUTH = '{ accessToken refreshToken accessTokenExpiresAt staff { id name role store { id name } } userErrors { code message } }';

  function keep(s) {
    session = s;
    if (s) sessionStorage.setItem('crm.session', JSON.stringify(s)); else sessionStorage.removeItem('crm.session');
    clearTimeout(timer);
    if (s && s.expiresAt) {
      var wait = new Date(s.expiresAt).getTime() - Date.now() - 60000;
      timer = setTimeout(refresh, Math.max(wait, 1000));
    }
  }
  function opened(p) {
    if (!p || !p.accessToken) return false;
    keep({ access: p.accessToken, refresh: p.refreshToken, expiresAt: p.accessTokenExpiresAt, staff: p.staff });
    return true;
  }
  function post(query, variables) {
    var headers = { 'content-type': 'application/json' };
    if (session) headers.authorization = 'Bearer ' + session.access;
    return fetch('/graphql', { method: 'POST', headers: headers, body: JSON.stringify({ query: query, variables: variables || {} }) })
      .then(function (r) { return r.json(); });
  }
  var refreshing = null;
  function refresh() {
    if (!session) return Promise.resolve(false);
    if (!refreshing) {
      refreshing = post('mutation($t: String!) { refresh(input: {refreshToken: $t}) ' + AUTH + ' }', { t: session.refresh })
        .then(function (r) { var ok = opened(r.data && r.data.refresh); if (!ok) { keep(null); } return ok; })
        .catch(function () { timer = setTimeout(refresh, 10000); return false; })
        .then(function (ok) { refreshing = null; return ok; });
    }
    return refreshing;
  }
  // A request; an expired token is refreshed once and the request repeated.
  function gql(query, variables) {
    return post(query, variables).then(function (r) {
      var code = r.errors && r.errors[0] && r.errors[0].extensions && r.errors[0].extensions.code;
      if (code === 'TOKEN_EXPIRED' || code === 'UNAUTHENTICATED') {
        return refresh().then(function (ok) {
          if (!ok) { route(); throw new Error('signed out'); }
          return post(query, variables);
        });
      }
      return r;
    }).then(function (r) {
      if (r.errors && r.errors.length) { var e = new Error(r.errors[0].message); e.code = r.errors[0].extensions && r.errors[0].extensions.code; throw e; }
      return r.data;
    });
  }

  var MANAGERS = ['STORE_MANAGER', 'GROUP_MANAGER', 'OEM_STAFF', 'ADMIN'];
  var PAGES = [
    { id: 'dashboard', roles: MANAGERS, render: dashboard },
    { id: 'leads', roles: ['STORE_MANAGER'], render: leadsPage },
    { id: 'tasks', roles: ['STORE_MANAGER'], render: tasksPage },
    { id: 'complaints', roles: ['STORE_MANAGER', 'CARE_AGENT', 'GROUP_MANAGER', 'OEM_STAFF', 'ADMIN'], render: complaintsPage },
    { id: 'reports', roles: MANAGERS, render: reportsPage },
    { id: 'plans', roles: MANAGERS, render: plansPage },
    { id: 'customers', roles: null, render: customersPage },
    { id: 'screenPop', roles: null, render: screenPopPage },
    { id: 'outbox', roles: ['STORE_MANAGER'], render: outboxPage },
    { id: 'staff', roles: ['STORE_MANAGER', 'GROUP_MANAGER', 'ADMIN'], render: staffPage },
    { id: 'settings', roles: ['STORE_MANAGER'], render: settingsPage }
  ];
  function allowed(p) { return !p.roles || (session && p.roles.indexOf(session.staff.role) >= 0); }
  function isManager() { return session && MANAGERS.indexOf(session.staff.role) >= 0; }

  // ------------------------------------------------------------ shell
  function chrome() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    $('lang').textContent = lang === 'zh' ? 'EN' : '中文';
    document.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
    $('signout').hidden = !session;
    $('who').textContent = session ? session.staff.name + ' · ' + label('Role', session.staff.role) : '';
    var nav = $('nav');
    nav.innerHTML = '';
    if (!session) return;
    var here = current().page;
    PAGES.filter(allowed).forEach(function (p) {
      nav.appendChild(h('a', { href: '#/' + p.id, class: p.id === here ? 'on' : null, 'data-testid': 'nav-' + p.id }, t(p.id)));
    });
  }
  function current() {
    var parts = location.hash.replace(/^#\/?/, '').split('/');
    return { page: parts[0] || (isManager() ? 'dashboard' : 'customers'), arg: decodeURIComponent(parts.slice(1).join('/')) };
  }
  var charts = [];
  function route() {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    closeSocket();
    chrome();
    var main = $('main');
    main.innerHTML = '';
    if (!session) { main.appendChild(signIn()); return; }
    var c = current();
    var page = c.page === 'customer' ? { id: 'customer', roles: null, render: customerPage } : PAGES.filter(function (p) { return p.id === c.page; })[0];
    if (!page) { location.hash = '#/' + (isManager() ? 'dashboard' : 'customers'); return; }
    if (!allowed(page)) { main.appendChild(h('p', { class: 'err', 'data-testid': 'forbidden' }, t('forbidden'))); return; }
    var box = h('section', { 'data-testid': 'page-' + page.id });
    main.appendChild(box);
    box.appendChild(h('p', { class: 'muted' }, t('loading')));
    Promise.resolve(page.render(box, c.arg)).catch(function (e) {
      box.innerHTML = '';
      box.appendChild(h('p', { class: 'err', 'data-testid': 'error' }, e.code === 'FORBIDDEN' ? t('forbidden') : e.message));
    });
  }
  function fill(box) { box.innerHTML = ''; for (var i = 1; i < arguments.length; i++) add(box, arguments[i]); }
  function chart(el, option) {
    if (!window.echarts) return;
    var c = window.echarts.init(el);
    option.animation = false;
    c.setOption(option);
    charts.push(c);
  }
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

  function signIn() {
    var msg = h('p', { class: 'err', 'data-testid': 'signin-error' });
    var form = h('form', { class: 'card signin', 'data-testid': 'signin', on: { submit: function (ev) {
      ev.preventDefault();
      post('mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) ' + AUTH + ' }',
        { l: form.username.value, p: form.password.value })
        .then(function (r) {
          var p = r.data && r.data.login;
          if (opened(p)) { loadLabels().then(route); } else { msg.textContent = errors(p) || (r.errors && r.errors[0].message) || t('failed'); }
        });
    } } },
    h('h1', {}, t('signIn')),
    h('input', { name: 'username', placeholder: t('username'), autocomplete: 'username', 'data-testid': 'username' }),
    h('input', { name: 'password', type: 'password', placeholder: t('password'), autocomplete: 'current-password', 'data-testid': 'password' }),
    h('button', { class: 'primary', type: 'submit', 'data-testid': 'signin-submit' }, t('signIn')), msg);
    return form;
  }
  function loadLabels() {
    return gql('{ today enumLabels { name values { value en zhCN } } }').then(function (d) {
      serverToday = d.today;
      labels = {};
      d.enumLabels.forEach(function (e) {
        labels[e.name] = {};
        e.values.forEach(function (v) { labels[e.name][v.value] = v; });
      });
    }).catch(function () {});
  }

  // -------------------------------------------------------- dashboard
  var DASH = 'query($f: ReportFilter!, $half: ReportFilter!, $store: Boolean!, $network: Boolean!) {' +
    ' funnel: salesFunnel(filter: $f, by: PERIOD) { leads contacted testDriven ordered delivered lost conversionRate }' +
    ' channels: salesFunnel(filter: $f, by: CHANNEL) { key { key } leads }' +
    ' service: serviceReport(filter: $f, by: PERIOD) { carEntries revenueFen csi surveys }' +
    ' complaints: complaintReport(filter: $f, by: PERIOD) { complaints overdue }' +
    ' byStore: serviceReport(filter: $half, by: STORE) @include(if: $network) { key { label } carEntries }' +
    ' trend: storeTrend(months: 6) @include(if: $store) { alert months { month carEntries revenueFen revenueAlert carEntriesAlert } }' +
    ' workload @include(if: $store) { overdue } }';
  function sum(rows, k) { return (rows || []).reduce(function (a, r) { return a + (r[k] || 0); }, 0); }
  // The dashboard's figures, from the same rows the API gives: the browser
  // test reads the API and compares.
  function dashboard(box) {
    var store = session.staff.role === 'STORE_MANAGER';
    var f = { from: monthStart(), to: today() };
    var d6 = new Date(today() + 'T00:00:00'); d6.setMonth(d6.getMonth() - 5, 1);
    var half = { from: d6.getFullYear() + '-' + pad(d6.getMonth() + 1) + '-01', to: today() };
    return gql(DASH, { f: f, half: half, store: store, network: !store }).then(function (d) {
      var leads = sum(d.funnel, 'leads'), delivered = sum(d.funnel, 'delivered');
      var surveys = sum(d.service, 'surveys');
      var csi = surveys ? d.service.reduce(function (a, r) { return a + (r.csi || 0) * r.surveys; }, 0) / surveys : null;
      var kpis = [
        ['leadsMonth', num(leads)], ['conversion', pct(leads ? delivered / leads : null)],
        ['carEntries', num(sum(d.service, 'carEntries'))], ['revenue', yuan(sum(d.service, 'revenueFen'))],
        ['complaintsMonth', num(sum(d.complaints, 'complaints'))], ['complaintsOverdue', num(sum(d.complaints, 'overdue'))],
        ['csi', csi == null ? '—' : num(csi, 1)]
      ];
      if (d.workload) kpis.push(['tasksOverdue', num(sum(d.workload, 'overdue'))]);
      var funnelEl = h('div', { class: 'chart', 'data-testid': 'chart-funnel' });
      var secondEl = h('div', { class: 'chart', 'data-testid': 'chart-trend' });
      var channelEl = h('div', { class: 'chart', 'data-testid': 'chart-channels' });
      fill(box, h('h1', {}, t('dashboard')),
        h('div', { class: 'kpis' }, kpis.map(function (k) {
          return h('div', { class: 'kpi' }, h('div', { class: 'v', 'data-testid': 'kpi-' + k[0] }, k[1]), h('div', { class: 'l' }, t(k[0])));
        })),
        d.trend && d.trend.alert ? h('p', { class: 'err', 'data-testid': 'trend-alert' }, '⚠ ' + t('trendAlert')) : null,
        h('div', { class: 'charts' },
          h('div', { class: 'card' }, h('h2', {}, t('funnel')), funnelEl),
          h('div', { class: 'card' }, h('h2', {}, d.trend ? t('trend') : t('byStore')), secondEl),
          h('div', { class: 'card' }, h('h2', {}, t('byChannel')), channelEl)));
      var stages = ['leads', 'contacted', 'testDriven', 'ordered', 'delivered'];
      chart(funnelEl, { grid: { left: 80, right: 20, top: 10, bottom: 20 }, xAxis: { type: 'value' },
        yAxis: { type: 'category', inverse: true, data: stages.map(function (s) { return s === 'leads' ? t('leads') : t(s); }) },
        series: [{ type: 'bar', data: stages.map(function (s) { return sum(d.funnel, s); }), label: { show: true, position: 'right' } }] });
      if (d.trend) {
        chart(secondEl, { tooltip: { trigger: 'axis' }, grid: { left: 40, right: 70 }, legend: { data: [t('carEntries'), t('revenue')] },
          xAxis: { type: 'category', data: d.trend.months.map(function (m) { return m.month; }) },
          yAxis: [{ type: 'value' }, { type: 'value' }],
          series: [{ name: t('carEntries'), type: 'bar', data: d.trend.months.map(function (m) { return m.carEntries; }) },
                   { name: t('revenue'), type: 'line', yAxisIndex: 1, data: d.trend.months.map(function (m) { return m.revenueFen / 100; }) }] });
      } else {
        chart(secondEl, { xAxis: { type: 'category', data: (d.byStore || []).map(function (r) { return r.key.label; }) }, yAxis: { type: 'value' },
          series: [{ type: 'bar', data: (d.byStore || []).map(function (r) { return r.carEntries; }) }] });
      }
      chart(channelEl, { tooltip: {}, series: [{ type: 'pie', radius: '55%', label: { formatter: '{b}: {c}' },
        data: d.channels.map(function (r) { return { name: label('CustomerSource', r.key.key), value: r.leads }; }) }] });
    });
  }

  // ------------------------------------------------------------ leads
  function consultants() {
    return gql('{ staffMembers(filter: {role: SALES_CONSULTANT, active: true}, first: 100) { nodes { id name } } }')
      .then(function (d) { return d.staffMembers.nodes; });
  }
  function staffSelect(list, name, testid) {
    return h('select', { name: name, 'data-testid': testid }, list.map(function (s) { return h('option', { value: s.id }, s.name); }));
  }
  function leadsPage(box) {
    var Q = '{ leads(filter: {status: [NEW, CONTACTED, TEST_DRIVEN, ORDERED]}, first: 50) { nodes { id grade status channel interestModel createdAt firstResponseLate customer { name } consultant { id name } } } myStore { id } }';
    var BOARD = 'query($s: ID!) { leadBoard(storeId: $s) { unassigned firstResponseLate dormant consultants { staff { name } open h a b c overdue } } }';
    return Promise.all([gql(Q), consultants()]).then(function (r) {
      return gql(BOARD, { s: r[0].myStore.id }).then(function (b) { r.push(b.leadBoard); return r; });
    }).then(function (r) {
      var leads = r[0].leads.nodes, people = r[1], board = r[2];
      var msg = h('p', { 'data-testid': 'lead-msg' });
      fill(box, h('h1', {}, t('leads')),
        h('div', { class: 'kpis' }, [['unassigned', board.unassigned], ['lateFirstResponse', board.firstResponseLate], ['dormant', board.dormant]].map(function (k) {
          return h('div', { class: 'kpi' }, h('div', { class: 'v', 'data-testid': 'board-' + k[0] }, num(k[1])), h('div', { class: 'l' }, t(k[0])));
        })),
        table([
          { title: t('consultant'), cell: function (c) { return c.staff ? c.staff.name : '—'; } },
          { title: t('open'), n: true, cell: function (c) { return num(c.open); } },
          { title: 'H / A / B / C', n: true, cell: function (c) { return [c.h, c.a, c.b, c.c].join(' / '); } },
          { title: t('overdue'), n: true, cell: function (c) { return num(c.overdue); } }
        ], board.consultants, 'board-consultants'),
        h('h2', {}, t('openLeads')), msg, table([
        { title: t('customer'), cell: function (l) { return l.customer ? l.customer.name : '—'; } },
        { title: t('grade'), cell: function (l) { return label('LeadGrade', l.grade); } },
        { title: t('status'), cell: function (l) { return label('LeadStatus', l.status); } },
        { title: t('channel'), cell: function (l) { return label('CustomerSource', l.channel); } },
        { title: t('model'), cell: function (l) { return l.interestModel || '—'; } },
        { title: t('createdAt'), cell: function (l) { return time(l.createdAt); } },
        { title: t('consultant'), cell: function (l) { return h('span', { 'data-testid': 'lead-consultant' }, l.consultant ? l.consultant.name : '—'); } },
        { title: t('reassign'), cell: function (l) {
          var sel = staffSelect(people, 'to', 'lead-to');
          if (l.consultant) sel.value = l.consultant.id;
          return h('span', { 'data-lead': l.id }, sel, ' ', h('button', { 'data-testid': 'lead-assign', on: { click: function () {
            gql('mutation($i: AssignLeadInput!) { assignLead(input: $i) { lead { consultant { name } } userErrors { field message } } }',
              { i: { leadId: l.id, consultantId: sel.value } }).then(function (d) {
              var e = errors(d.assignLead);
              msg.className = e ? 'err' : 'ok';
              msg.textContent = e || t('saved') + ': ' + d.assignLead.lead.consultant.name;
              if (!e) { var cell = sel.closest('tr').querySelector('[data-testid=lead-consultant]'); if (cell) cell.textContent = d.assignLead.lead.consultant.name; }
            }).catch(function (e) { msg.className = 'err'; msg.textContent = e.message; });
          } } }, l.consultant ? t('reassign') : t('assign')));
        } }
      ], leads, 'leads-table'));
    });
  }

  // ------------------------------------------------------------ tasks
  function tasksPage(box) {
    var Q = '{ workload { staff { id name } queue open overdue } tasks(filter: {status: [OVERDUE]}, first: 50) { nodes { id title kind dueAt assignee { name } customer { name } } } staffMembers(filter: {active: true}, first: 100) { nodes { id name role } } }';
    return gql(Q).then(function (d) {
      var people = d.staffMembers.nodes.filter(function (s) { return s.role !== 'STORE_MANAGER'; });
      var msg = h('p', { 'data-testid': 'tasks-msg' });
      var from = staffSelect(people, 'from', 'bulk-from'), to = staffSelect(people, 'to', 'bulk-to');
      fill(box, h('h1', {}, t('tasks')),
        h('h2', {}, t('overdueByStaff')),
        table([
          { title: t('staff'), cell: function (w) { return w.staff ? w.staff.name : label('Role', w.queue); } },
          { title: t('open'), n: true, cell: function (w) { return num(w.open); } },
          { title: t('overdue'), n: true, cell: function (w) { return num(w.overdue); } }
        ], d.workload, 'workload-table'),
        h('h2', {}, t('reassign')),
        h('div', { class: 'row' }, h('label', {}, t('fromStaff'), from), h('label', {}, t('toStaff'), to),
          h('button', { class: 'primary', 'data-testid': 'bulk-reassign', on: { click: function () {
            gql('mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) { moved userErrors { field message } } }',
              { i: { fromStaffId: from.value, toStaffId: to.value, handOverCustomers: true } })
              .then(function (r) { var e = errors(r.reassignTasks); msg.className = e ? 'err' : 'ok'; msg.textContent = e || t('done') + ': ' + r.reassignTasks.moved; })
              .catch(function (e) { msg.className = 'err'; msg.textContent = e.message; });
          } } }, t('reassign'))),
        msg,
        h('h2', {}, t('overdue')),
        table([
          { title: t('title'), cell: function (x) { return x.title; } },
          { title: t('kind'), cell: function (x) { return label('TaskKind', x.kind); } },
          { title: t('customer'), cell: function (x) { return x.customer ? x.customer.name : '—'; } },
          { title: t('owner'), cell: function (x) { return x.assignee ? x.assignee.name : '—'; } },
          { title: t('due'), cell: function (x) { return time(x.dueAt); } }
        ], d.tasks.nodes, 'overdue-table'));
    });
  }

  // ------------------------------------------------------- complaints
  function clock(due, state) {
    var ms = new Date(due).getTime() - Date.now();
    var m = Math.round(Math.abs(ms) / 60000), hh = Math.floor(m / 60), mm = m % 60;
    var text = (hh ? hh + 'h ' : '') + mm + 'm';
    // A met or missed deadline is history: its label says all.
    if (state === 'MET' || state === 'MISSED') return h('span', { class: 'badge ' + state }, label('SlaState', state));
    return h('span', { class: 'badge ' + state, 'data-due': due }, label('SlaState', state) + ' · ' + (ms < 0 ? '-' : '') + text);
  }
  function complaintsPage(box) {
    var Q = '{ complaints(first: 50) { nodes { id receivedAt category severity status responseDueAt resolutionDueAt responseClock resolutionClock escalationLevel store { name } owner { name } } } }';
    return gql(Q).then(function (d) {
      fill(box, h('h1', {}, t('complaints')), table([
        { title: t('received'), cell: function (c) { return time(c.receivedAt); } },
        { title: t('store'), cell: function (c) { return c.store ? c.store.name : '—'; } },
        { title: t('kind'), cell: function (c) { return label('ComplaintCategory', c.category); } },
        { title: t('severity'), cell: function (c) { return label('Severity', c.severity); } },
        { title: t('status'), cell: function (c) { return label('ComplaintStatus', c.status); } },
        { title: t('owner'), cell: function (c) { return c.owner ? c.owner.name : '—'; } },
        { title: t('response'), cell: function (c) { return clock(c.responseDueAt, c.responseClock); } },
        { title: t('resolution'), cell: function (c) { return clock(c.resolutionDueAt, c.resolutionClock); } }
      ], d.complaints.nodes, 'complaints-table'));
    });
  }

  // ---------------------------------------------------------- reports
  var REPORTS = {
    rFunnel: { q: 'salesFunnel', by: ['PERIOD', 'STORE', 'STAFF', 'CHANNEL', 'GRADE', 'MODEL', 'LOST_REASON'],
      fields: 'leads contacted testDriven ordered delivered lost contactRate testDriveRate orderRate conversionRate meanFirstResponseMinutes respondedInTimeRate' },
    rService: { q: 'serviceReport', by: ['PERIOD', 'STORE', 'STAFF', 'MODEL'],
      fields: 'carEntries delivered revenueFen paidFen firstTimeFixRate onTimeRate surveys csi' },
    rComplaints: { q: 'complaintReport', by: ['PERIOD', 'STORE', 'STAFF', 'CAUSE', 'CATEGORY', 'DEPARTMENT', 'CHANNEL'],
      fields: 'complaints respondedInTime resolved resolvedInTime withinSlaRate overdue escalated' },
    rFollowUp: { q: 'followUpReport', by: ['PERIOD', 'STORE', 'STAFF', 'MODEL'],
      fields: 'revisitsDue revisitsDone revisitsOnTime revisitOnTimeRate claims claimsFiledOnTime claimsApproved claimApprovalRate claimsPaidFen' }
  };
  var lastReport = null;
  function reportsPage(box) {
    return gql('{ stores { id name } }').then(function (d) {
      var f = h('form', { class: 'card', 'data-testid': 'report-form' });
      function field(name, el) { return h('label', {}, t(name), el); }
      var kind = h('select', { name: 'kind', 'data-testid': 'report-kind' }, Object.keys(REPORTS).map(function (k) { return h('option', { value: k }, t(k)); }));
      var by = h('select', { name: 'by', 'data-testid': 'report-by' });
      function fillBy() { by.innerHTML = ''; REPORTS[kind.value].by.forEach(function (b) { by.appendChild(h('option', { value: b }, b)); }); }
      kind.addEventListener('change', fillBy); fillBy();
      var stores = h('select', { name: 'store' }, h('option', { value: '' }, t('all')), d.stores.map(function (s) { return h('option', { value: s.id }, s.name); }));
      var out = h('div', { 'data-testid': 'report-out' });
      add(f, h('div', { class: 'row' }, field('report', kind), field('by', by),
        field('period', h('select', { name: 'period' }, ['MONTH', 'WEEK', 'DAY'].map(function (p) { return h('option', { value: p }, p); }))),
        field('from', h('input', { type: 'date', name: 'from', value: monthStart() })), field('to', h('input', { type: 'date', name: 'to', value: today() })),
        field('store', stores), field('channel', h('input', { name: 'channel', size: 10, placeholder: 'WALK_IN' })),
        field('grade', h('input', { name: 'grade', size: 3, placeholder: 'H' })), field('model', h('input', { name: 'model', size: 8 })),
        field('dealerGrade', h('input', { name: 'dealerGrade', size: 3, placeholder: 'A' })), field('city', h('input', { name: 'city', size: 6 })),
        h('button', { class: 'primary', type: 'submit', 'data-testid': 'report-run' }, t('run')),
        h('button', { type: 'button', 'data-testid': 'report-csv', on: { click: downloadCsv } }, t('csv'))));
      f.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var r = REPORTS[kind.value];
        var filter = { from: f.from.value, to: f.to.value, period: f.period.value };
        if (stores.value) filter.storeIds = [stores.value];
        ['channel', 'grade', 'model', 'dealerGrade', 'city'].forEach(function (k) { if (f[k].value.trim()) filter[k] = f[k].value.trim(); });
        gql('query($f: ReportFilter!, $by: ReportBy!) { rows: ' + r.q + '(filter: $f, by: $by) { key { key label } ' + r.fields + ' } }', { f: filter, by: by.value })
          .then(function (d) {
            var cols = ['label'].concat(r.fields.split(' '));
            lastReport = { name: r.q, cols: cols, rows: d.rows.map(function (x) { var o = { label: x.key.label }; r.fields.split(' ').forEach(function (k) { o[k] = x[k]; }); return o; }) };
            fill(out, table(cols.map(function (c) { return { title: c, n: c !== 'label', cell: function (x) { return c === 'label' ? x.label : (/Rate$/.test(c) ? pct(x[c]) : num(x[c])); } }; }), lastReport.rows, 'report-table'));
          }).catch(function (e) { fill(out, h('p', { class: 'err' }, e.message)); });
      });
      fill(box, h('h1', {}, t('reports')), f, out);
    });
  }
  function csvCell(v) { var s = v == null ? '' : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
  function downloadCsv() {
    if (!lastReport) return;
    var lines = [lastReport.cols.join(',')].concat(lastReport.rows.map(function (r) { return lastReport.cols.map(function (c) { return csvCell(r[c]); }).join(','); }));
    var blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    var a = h('a', { href: URL.createObjectURL(blob), download: lastReport.name + '.csv' });
    document.body.appendChild(a); a.click(); a.remove();
  }

  // ------------------------------------------------ plans and targets
  function plansPage(box) {
    var m = thisMonth(), first = m + '-01', last = pad(new Date(+m.slice(0, 4), +m.slice(5, 7), 0).getDate());
    var Q = 'query($from: NaiveDate!, $to: NaiveDate!, $m: String!) { workPlans(from: $from, to: $to) { id kind title startsOn endsOn method targetCount minimumCount actualCount progress status }' +
      ' staffScorecard(month: $m) { staff { key label } tasksDone unitsDelivered serviceRevenueFen newCustomers csi attainment { measure rate } }' +
      ' staffMembers(filter: {active: true}, first: 100) { nodes { id name role } } }';
    return gql(Q, { from: first, to: m + '-' + last, m: m }).then(function (d) {
      var store = session.staff.role === 'STORE_MANAGER';
      var msg = h('p', { 'data-testid': 'plan-msg' });
      var form = h('form', { class: 'card', 'data-testid': 'plan-form', on: { submit: function (ev) {
        ev.preventDefault();
        gql('mutation($i: CreateWorkPlanInput!) { createWorkPlan(input: $i) { plan { id } userErrors { field message } } }', { i: {
          kind: form.kind.value, title: form.title.value, startsOn: form.startsOn.value, endsOn: form.endsOn.value, method: form.method.value,
          targetCount: +form.target.value, minimumCount: +form.minimum.value, content: form.content.value, purpose: form.purpose.value } })
          .then(function (r) { var e = errors(r.createWorkPlan); if (e) { msg.className = 'err'; msg.textContent = e; } else { route(); } })
          .catch(function (e) { msg.className = 'err'; msg.textContent = e.message; });
      } } }, h('div', { class: 'row' },
        h('label', {}, t('kind'), h('select', { name: 'kind' }, ['REVISIT', 'CUSTOMER_EVENT', 'SERVICE_PLAN'].map(function (k) { return h('option', { value: k }, label('WorkPlanKind', k)); }))),
        h('label', {}, t('title'), h('input', { name: 'title', 'data-testid': 'plan-title' })),
        h('label', {}, t('startsOn'), h('input', { type: 'date', name: 'startsOn', value: first })),
        h('label', {}, t('endsOn'), h('input', { type: 'date', name: 'endsOn', value: m + '-' + last })),
        h('label', {}, t('method'), h('select', { name: 'method' }, ['PHONE', 'SMS', 'WECHAT', 'VISIT', 'EVENT', 'OTHER'].map(function (k) { return h('option', { value: k }, label('PlanMethod', k)); }))),
        h('label', {}, t('target'), h('input', { type: 'number', name: 'target', value: 10, min: 1 })),
        h('label', {}, t('minimum'), h('input', { type: 'number', name: 'minimum', value: 5, min: 0 })),
        h('label', {}, t('content'), h('input', { name: 'content' })), h('label', {}, t('purpose'), h('input', { name: 'purpose' })),
        h('button', { class: 'primary', type: 'submit' }, t('create'))), msg);
      var tmsg = h('p', { 'data-testid': 'target-msg' });
      var tform = h('form', { class: 'card row', 'data-testid': 'target-form', on: { submit: function (ev) {
        ev.preventDefault();
        var i = { staffId: tform.staff.value, month: m };
        [['tasksDone', 'tasks'], ['serviceRevenueFen', 'revenue'], ['newCustomers', 'customers'], ['receivablesFen', 'receivables']].forEach(function (p) {
          if (tform[p[1]].value !== '') i[p[0]] = +tform[p[1]].value;
        });
        if (tform.csi.value !== '') i.csi = +tform.csi.value;
        gql('mutation($i: SetStaffTargetInput!) { setStaffTarget(input: $i) { target { tasksDone } userErrors { field message } } }', { i: i })
          .then(function (r) { var e = errors(r.setStaffTarget); if (e) { tmsg.className = 'err'; tmsg.textContent = e; } else { route(); } })
          .catch(function (e) { tmsg.className = 'err'; tmsg.textContent = e.message; });
      } } },
        h('label', {}, t('staff'), staffSelect(d.staffMembers ? d.staffMembers.nodes : [], 'staff', 'target-staff')),
        h('label', {}, t('tasks'), h('input', { type: 'number', name: 'tasks', min: 0, size: 5 })),
        h('label', {}, t('serviceRevenue'), h('input', { type: 'number', name: 'revenue', min: 0 })),
        h('label', {}, t('newCustomers'), h('input', { type: 'number', name: 'customers', min: 0, size: 5 })),
        h('label', {}, t('receivables'), h('input', { type: 'number', name: 'receivables', min: 0 })),
        h('label', {}, t('csi'), h('input', { type: 'number', name: 'csi', min: 0, max: 100, step: '0.1', size: 5 })),
        h('button', { class: 'primary', type: 'submit' }, t('setTarget') + ' · ' + m));
      fill(box, h('h1', {}, t('plans')), store ? form : null,
        table([
          { title: t('title'), cell: function (p) { return p.title; } },
          { title: t('kind'), cell: function (p) { return label('WorkPlanKind', p.kind); } },
          { title: t('startsOn'), cell: function (p) { return p.startsOn + ' – ' + p.endsOn; } },
          { title: t('method'), cell: function (p) { return label('PlanMethod', p.method); } },
          { title: t('target'), n: true, cell: function (p) { return p.targetCount + ' / ' + p.minimumCount; } },
          { title: t('actual'), n: true, cell: function (p) { return num(p.actualCount) + ' (' + pct(p.progress) + ')'; } },
          { title: t('status'), cell: function (p) { return badge(p.status); } }
        ], d.workPlans, 'plans-table'),
        h('h2', {}, t('rScorecard') + ' · ' + m),
        table([
          { title: t('staff'), cell: function (r) { return r.staff.label; } },
          { title: t('tasks'), n: true, cell: function (r) { return num(r.tasksDone); } },
          { title: t('units'), n: true, cell: function (r) { return num(r.unitsDelivered); } },
          { title: t('serviceRevenue'), n: true, cell: function (r) { return num(r.serviceRevenueFen); } },
          { title: t('newCustomers'), n: true, cell: function (r) { return num(r.newCustomers); } },
          { title: t('csi'), n: true, cell: function (r) { return num(r.csi, 1); } },
          { title: t('attainment'), cell: function (r) { return r.attainment.map(function (a) { return a.measure + ' ' + pct(a.rate); }).join(' · '); } }
        ], d.staffScorecard, 'scorecard-table'), store ? tform : null, tmsg);
    });
  }

  // -------------------------------------------------------- customers
  function customersPage(box, arg) {
    var input = h('input', { name: 'q', placeholder: t('search'), value: arg || '', 'data-testid': 'customer-search' });
    var out = h('div');
    function run() {
      gql('query($s: String) { customers(filter: {search: $s}, first: 30) { nodes { id name mobile lifecycleStage responsibleStaff { name } } } }', { s: input.value || null })
        .then(function (d) {
          fill(out, table([
            { title: t('name'), cell: function (c) { return h('a', { href: '#/customer/' + encodeURIComponent(c.id) }, c.name); } },
            { title: t('mobile'), cell: function (c) { return c.mobile; } },
            { title: t('stage'), cell: function (c) { return label('LifecycleStage', c.lifecycleStage); } },
            { title: t('consultant'), cell: function (c) { return c.responsibleStaff ? c.responsibleStaff.name : '—'; } }
          ], d.customers.nodes, 'customers-table'));
        }).catch(function (e) { fill(out, h('p', { class: 'err' }, e.message)); });
    }
    fill(box, h('h1', {}, t('customers')), h('form', { class: 'row', on: { submit: function (ev) { ev.preventDefault(); run(); } } }, input, h('button', { class: 'primary' }, t('lookUp'))), out);
    run();
  }
  var C360 = 'query($id: ID!) { customer(id: $id) { id name mobile city lifecycleStage responsibleStaff { name } vehicles { vin model plate currentMileageKm } log(first: 20) { nodes { occurredAt kind summary staff { name } } } }' +
    ' tasks(filter: {customerId: $id, status: [OPEN, OVERDUE]}, first: 20) { nodes { id title status dueAt assignee { name } } }' +
    ' customerStanding(customerId: $id) { stage segment revenueFen lifetimeValueFen risks } }';
  function customerView(d) {
    var c = d.customer;
    if (!c) return h('p', { class: 'muted', 'data-testid': 'no-customer' }, t('notFound'));
    var s = d.customerStanding;
    return h('div', { 'data-testid': 'customer-360' },
      h('h1', {}, c.name, ' ', h('span', { class: 'muted' }, c.mobile)),
      h('p', {}, label('LifecycleStage', c.lifecycleStage), ' · ', c.city || '', ' · ', c.responsibleStaff ? c.responsibleStaff.name : ''),
      s ? h('p', { 'data-testid': 'standing' }, t('standing'), ': ', label('Stage', s.stage), ' · ', s.segment, ' · ', t('revenue'), ' ', yuan(s.revenueFen)) : null,
      h('h2', {}, t('vehicles')),
      table([{ title: 'VIN', cell: function (v) { return v.vin; } }, { title: t('model'), cell: function (v) { return v.model; } },
        { title: 'km', n: true, cell: function (v) { return num(v.currentMileageKm); } }], c.vehicles, 'vehicles-table'),
      h('h2', {}, t('tasks'), ' ', h('span', { class: 'badge', 'data-testid': 'live' }, '')),
      table([{ title: t('title'), cell: function (x) { return x.title; } }, { title: t('status'), cell: function (x) { return badge(x.status, 'TaskStatus'); } },
        { title: t('due'), cell: function (x) { return time(x.dueAt); } }, { title: t('owner'), cell: function (x) { return x.assignee ? x.assignee.name : '—'; } }],
        d.tasks.nodes, 'customer-tasks'),
      h('h2', {}, t('log')),
      table([{ title: t('received'), cell: function (e) { return time(e.occurredAt); } }, { title: t('kind'), cell: function (e) { return label('LogKind', e.kind); } },
        { title: t('content'), cell: function (e) { return e.summary; } }, { title: t('staff'), cell: function (e) { return e.staff ? e.staff.name : '—'; } }],
        c.log.nodes, 'customer-log'));
  }
  function customerPage(box, id) {
    return gql(C360, { id: id }).then(function (d) { fill(box, customerView(d)); live(box, d.customer && d.customer.id, function () { customerPage(box, id); }); });
  }
  function screenPopPage(box, arg) {
    var input = h('input', { name: 'phone', placeholder: t('phone'), value: arg || '', 'data-testid': 'pop-phone' });
    var out = h('div', { 'data-testid': 'pop-out' });
    function look() {
      gql('query($p: String!) { customerByPhone(phone: $p) { id } }', { p: input.value }).then(function (d) {
        if (!d.customerByPhone) { fill(out, h('p', { class: 'muted', 'data-testid': 'no-customer' }, t('notFound'))); return; }
        var id = d.customerByPhone.id;
        var show = function () { return gql(C360, { id: id }).then(function (x) { fill(out, customerView(x)); }); };
        show().then(function () { live(out, id, show); });
      }).catch(function (e) { fill(out, h('p', { class: 'err' }, e.message)); });
    }
    fill(box, h('h1', {}, t('screenPop')), h('form', { class: 'row', on: { submit: function (ev) { ev.preventDefault(); look(); } } }, input, h('button', { class: 'primary', 'data-testid': 'pop-look' }, t('lookUp'))), out);
    if (arg) look();
  }
  // Keeps a customer's tasks live over the task subscription
  // (graphql-transport-ws), reloading when one of theirs changes.
  var socket = null;
  function closeSocket() { if (socket) { socket.onclose = null; socket.close(); socket = null; } }
  function live(box, customerId, reload) {
    closeSocket();
    if (!customerId || !session) return;
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws', 'graphql-transport-ws');
    socket = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: 'Bearer ' + session.access } })); };
    ws.onmessage = function (m) {
      var msg = JSON.parse(m.data);
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { taskEvents { change taskId task { customer { id } } } }' } }));
        var b = box.querySelector('[data-testid=live]'); if (b) { b.textContent = '● ' + t('live'); b.className = 'badge RUNNING'; }
      } else if (msg.type === 'next') {
        var e = msg.payload && msg.payload.data && msg.payload.data.taskEvents;
        if (e && e.task && e.task.customer && e.task.customer.id === customerId) reload();
      } else if (msg.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong', payload: { Authorization: 'Bearer ' + session.access } }));
      }
    };
  }

  // ----------------------------------------------------------- outbox
  function outboxPage(box) {
    var Q = '{ outboxSummary { store { name } pending sending sent dead suppressed } notifications(filter: {status: DEAD}, first: 50) { nodes { id channel category attempts lastError createdAt } } }';
    return gql(Q).then(function (d) {
      var msg = h('p', { 'data-testid': 'outbox-msg' });
      var picked = {};
      fill(box, h('h1', {}, t('outbox')), h('h2', {}, t('summary')),
        table(['pending', 'sending', 'sent', 'dead', 'suppressed'].map(function (k) { return { title: label('NotificationStatus', k.toUpperCase()), n: true, cell: function (r) { return num(r[k]); } }; }), d.outboxSummary, 'outbox-summary'),
        h('h2', {}, t('dead')),
        table([
          { title: '', cell: function (n) { return h('input', { type: 'checkbox', on: { change: function (ev) { picked[n.id] = ev.target.checked; } } }); } },
          { title: t('channel'), cell: function (n) { return label('NotificationChannel', n.channel); } },
          { title: t('kind'), cell: function (n) { return label('NotificationCategory', n.category); } },
          { title: '#', n: true, cell: function (n) { return n.attempts; } },
          { title: t('failed'), cell: function (n) { return n.lastError || ''; } },
          { title: t('createdAt'), cell: function (n) { return time(n.createdAt); } }
        ], d.notifications.nodes, 'dead-table'),
        h('button', { class: 'primary', 'data-testid': 'retry', on: { click: function () {
          var ids = Object.keys(picked).filter(function (k) { return picked[k]; });
          gql('mutation($ids: [ID!]!) { retryNotifications(ids: $ids) { requeued } }', { ids: ids })
            .then(function (r) { msg.className = 'ok'; msg.textContent = t('requeued') + ': ' + r.retryNotifications.requeued; })
            .catch(function (e) { msg.className = 'err'; msg.textContent = e.message; });
        } } }, t('retry')), msg);
    });
  }

  // ------------------------------------------------------------ staff
  function staffPage(box) {
    return gql('{ staffMembers(first: 100) { nodes { id username name role active store { name } } } myStore { id } }').then(function (d) {
      var msg = h('p', { 'data-testid': 'staff-msg' });
      var form = h('form', { class: 'card row', on: { submit: function (ev) {
        ev.preventDefault();
        var i = { username: form.username.value, name: form.name.value, role: form.role.value, password: form.password.value };
        if (d.myStore) i.storeId = d.myStore.id;
        gql('mutation($i: CreateStaffInput!) { createStaff(input: $i) { staff { id } userErrors { field message } } }', { i: i })
          .then(function (r) { var e = errors(r.createStaff); if (e) { msg.className = 'err'; msg.textContent = e; } else { route(); } })
          .catch(function (e) { msg.className = 'err'; msg.textContent = e.message; });
      } } },
      h('label', {}, t('username'), h('input', { name: 'username' })), h('label', {}, t('name'), h('input', { name: 'name' })),
      h('label', {}, t('role'), h('select', { name: 'role' }, ['SALES_CONSULTANT', 'SERVICE_ADVISOR', 'CARE_AGENT', 'WARRANTY_CLERK'].map(function (r) { return h('option', { value: r }, label('Role', r)); }))),
      h('label', {}, t('password'), h('input', { name: 'password', type: 'password' })),
      h('button', { class: 'primary', type: 'submit' }, t('newStaff')));
      fill(box, h('h1', {}, t('staff')), session.staff.role === 'STORE_MANAGER' ? form : null, msg, table([
        { title: t('name'), cell: function (s) { return s.name; } }, { title: t('username'), cell: function (s) { return s.username; } },
        { title: t('role'), cell: function (s) { return label('Role', s.role); } }, { title: t('store'), cell: function (s) { return s.store ? s.store.name : '—'; } },
        { title: t('active'), cell: function (s) { return s.active ? '✓' : '✗'; } },
        { title: '', cell: function (s) {
          return s.active && session.staff.role === 'STORE_MANAGER' && s.id !== session.staff.id ? h('button', { on: { click: function () {
            gql('mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { userErrors { field message } } }', { i: { staffId: s.id } })
              .then(function (r) { var e = errors(r.deactivateStaff); if (e) { msg.className = 'err'; msg.textContent = e; } else { route(); } });
          } } }, t('deactivate')) : '';
        } }
      ], d.staffMembers.nodes, 'staff-table'));
    });
  }

  // --------------------------------------------------------- settings
  function settingsPage(box) {
    return gql('{ storeSettingsCatalogue { name description min max default } }').then(function (c) {
      var names = c.storeSettingsCatalogue.map(function (s) { return s.name; });
      return gql('{ myStore { id name settings { ' + names.join(' ') + ' } } }').then(function (d) {
        var msg = h('p', { 'data-testid': 'settings-msg' });
        var form = h('form', { 'data-testid': 'settings-form', on: { submit: function (ev) {
          ev.preventDefault();
          var patch = {};
          names.forEach(function (n) { var v = +form[n].value; if (v !== d.myStore.settings[n]) patch[n] = v; });
          gql('mutation($i: UpdateStoreInput!) { updateStore(input: $i) { store { id } userErrors { field message } } }', { i: { storeId: d.myStore.id, settings: patch } })
            .then(function (r) { var e = errors(r.updateStore); msg.className = e ? 'err' : 'ok'; msg.textContent = e || t('saved'); if (!e) { names.forEach(function (n) { d.myStore.settings[n] = +form[n].value; }); } })
            .catch(function (e) { msg.className = 'err'; msg.textContent = e.message; });
        } } },
        c.storeSettingsCatalogue.map(function (s) {
          return h('div', { class: 'setting' }, h('code', {}, s.name),
            h('input', { type: 'number', name: s.name, min: s.min, max: s.max, value: d.myStore.settings[s.name], 'data-testid': 'setting-' + s.name }),
            h('span', { class: 'd muted' }, s.description + ' (' + s.min + '–' + s.max + ', ' + s.default + ')'));
        }),
        h('p', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'settings-save' }, t('save'))), msg);
        fill(box, h('h1', {}, t('settings'), ' · ', d.myStore.name), form);
      });
    });
  }

  // ------------------------------------------------------------ start
  $('lang').addEventListener('click', function () { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('crm.lang', lang); route(); });
  $('signout').addEventListener('click', function () {
    if (session) post('mutation($t: String!) { logout(input: {refreshToken: $t}) { ok } }', { t: session.refresh });
    keep(null); location.hash = ''; route();
  });
  window.addEventListener('hashchange', route);
  if (session) { keep(session); loadLabels().then(route); } else { route(); }
})();
