import { createRouter, createWebHistory } from 'vue-router'
import { can, ensureMe } from '@/session'
import { menus, visibleMenus, type MenuItem } from '@/menu'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without being signed in. */
    public?: boolean
    /** Only for operators. */
    operatorOnly?: boolean
    /** The permission the page needs (角色权限); without it the 无权限 page shows. */
    perm?: string
    title?: string
  }
}

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    {
      path: '/login',
      name: 'login',
      component: () => import('@/views/LoginView.vue'),
      meta: { public: true, title: '登录' },
    },
    {
      path: '/reset-password',
      name: 'reset-password',
      component: () => import('@/views/ResetPasswordView.vue'),
      meta: { public: true, title: '设置新密码' },
    },
    {
      path: '/change-password',
      name: 'change-password',
      component: () => import('@/views/ChangePasswordView.vue'),
      meta: { title: '修改初始密码' },
    },
    {
      path: '/',
      component: () => import('@/components/AppLayout.vue'),
      children: [
        { path: '', redirect: '/communities' },
        {
          path: 'communities',
          name: 'communities',
          component: () => import('@/views/CommunitiesView.vue'),
          meta: { title: '小区信息列表', perm: 'community.view' },
        },
        {
          path: 'housing',
          name: 'housing',
          component: () => import('@/views/HousingView.vue'),
          meta: { title: '房屋信息列表', perm: 'housing.view' },
        },
        {
          path: 'residents',
          name: 'residents',
          component: () => import('@/views/ResidentsView.vue'),
          meta: { title: '业主列表', perm: 'residents.view' },
        },
        {
          path: 'applications',
          name: 'applications',
          component: () => import('@/views/ApplicationsView.vue'),
          meta: { title: '业主申请列表', perm: 'applications.view' },
        },
        {
          path: 'cards',
          name: 'cards',
          component: () => import('@/views/CardsView.vue'),
          meta: { title: '门禁卡列表', perm: 'cards.view' },
        },
        {
          path: 'passes',
          name: 'passes',
          component: () => import('@/views/PassesView.vue'),
          meta: { title: '访客通行', perm: 'passes.view' },
        },
        {
          path: 'devices',
          name: 'devices',
          component: () => import('@/views/DevicesView.vue'),
          meta: { title: '设备列表', perm: 'devices.view' },
        },
        {
          path: 'cameras',
          name: 'cameras',
          component: () => import('@/views/CamerasView.vue'),
          meta: { title: '监控设备', perm: 'devices.view' },
        },
        {
          path: 'notices',
          name: 'notices',
          component: () => import('@/views/NoticesView.vue'),
          meta: { title: '小区通知', perm: 'notices.view' },
        },
        {
          path: 'room-notices',
          name: 'room-notices',
          component: () => import('@/views/RoomNoticesView.vue'),
          meta: { title: '房间通知', perm: 'notices.view' },
        },
        {
          path: 'ads',
          name: 'ads',
          component: () => import('@/views/AdsView.vue'),
          meta: { title: '门口机内容管理', perm: 'ads.view' },
        },
        {
          path: 'door-calls',
          name: 'door-calls',
          component: () => import('@/views/DoorCallsView.vue'),
          meta: { title: '门口呼叫', perm: 'doorcall.answer' },
        },
        {
          path: 'records/calls',
          name: 'call-records',
          component: () => import('@/views/CallRecordsView.vue'),
          meta: { title: '呼叫记录', perm: 'records.view' },
        },
        {
          path: 'records/unlocks',
          name: 'unlock-records',
          component: () => import('@/views/UnlockRecordsView.vue'),
          meta: { title: '开锁记录', perm: 'records.view' },
        },
        {
          path: 'firmware',
          name: 'firmware',
          component: () => import('@/views/FirmwareView.vue'),
          meta: { title: '固件管理', operatorOnly: true },
        },
        {
          path: 'accounts',
          name: 'accounts',
          component: () => import('@/views/AccountsView.vue'),
          meta: { title: '账号管理', operatorOnly: true },
        },
        {
          path: 'audit-log',
          name: 'audit-log',
          component: () => import('@/views/AuditLogView.vue'),
          meta: { title: '操作日志', perm: 'staff.manage' },
        },
        {
          path: 'staff',
          name: 'staff',
          component: () => import('@/views/StaffView.vue'),
          meta: { title: '员工与角色', perm: 'staff.manage' },
        },
        {
          path: 'forbidden',
          name: 'forbidden',
          component: () => import('@/views/ForbiddenView.vue'),
          meta: { title: '无权限' },
        },
        {
          path: 'profile',
          name: 'profile',
          component: () => import('@/views/ProfileView.vue'),
          meta: { title: '个人信息中心' },
        },
        {
          path: ':pathMatch(.*)*',
          name: 'not-found',
          component: () => import('@/views/NotFoundView.vue'),
          meta: { title: '页面不存在' },
        },
      ],
    },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const me = await ensureMe()
  if (!me) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (me.must_change_password && to.name !== 'change-password') {
    return { name: 'change-password' }
  }
  if (to.meta.operatorOnly && me.role !== 'operator') {
    return { name: 'not-found', params: { pathMatch: to.path.slice(1).split('/') } }
  }
  if (to.meta.perm && !can(to.meta.perm)) {
    // The home page goes to the first page the role may open instead.
    const first = to.redirectedFrom?.path === '/' ? firstPage(visibleMenus(me, menus)) : undefined
    if (first) return first
    return { name: 'forbidden', query: { perm: to.meta.perm, page: to.meta.title ?? to.path } }
  }
  return true
})

function firstPage(items: MenuItem[]): string | undefined {
  for (const m of items) {
    const p = m.children ? firstPage(m.children) : m.path
    if (p && p !== '/profile') return p
  }
  return undefined
}

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 智慧社区管理平台` : '智慧社区管理平台'
})
