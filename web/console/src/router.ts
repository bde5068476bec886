import { createRouter, createWebHistory } from 'vue-router'
import { ensureMe } from '@/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without being signed in. */
    public?: boolean
    /** Only for operators. */
    operatorOnly?: boolean
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
          meta: { title: '小区信息列表' },
        },
        {
          path: 'housing',
          name: 'housing',
          component: () => import('@/views/HousingView.vue'),
          meta: { title: '房屋信息列表' },
        },
        {
          path: 'residents',
          name: 'residents',
          component: () => import('@/views/ResidentsView.vue'),
          meta: { title: '业主列表' },
        },
        {
          path: 'applications',
          name: 'applications',
          component: () => import('@/views/ApplicationsView.vue'),
          meta: { title: '业主申请列表' },
        },
        {
          path: 'cards',
          name: 'cards',
          component: () => import('@/views/CardsView.vue'),
          meta: { title: '门禁卡列表' },
        },
        {
          path: 'passes',
          name: 'passes',
          component: () => import('@/views/PassesView.vue'),
          meta: { title: '访客通行' },
        },
        {
          path: 'devices',
          name: 'devices',
          component: () => import('@/views/DevicesView.vue'),
          meta: { title: '设备列表' },
        },
        {
          path: 'cameras',
          name: 'cameras',
          component: () => import('@/views/CamerasView.vue'),
          meta: { title: '监控设备' },
        },
        {
          path: 'notices',
          name: 'notices',
          component: () => import('@/views/NoticesView.vue'),
          meta: { title: '小区通知' },
        },
        {
          path: 'room-notices',
          name: 'room-notices',
          component: () => import('@/views/RoomNoticesView.vue'),
          meta: { title: '房间通知' },
        },
        {
          path: 'ads',
          name: 'ads',
          component: () => import('@/views/AdsView.vue'),
          meta: { title: '门口机内容管理' },
        },
        {
          path: 'door-calls',
          name: 'door-calls',
          component: () => import('@/views/DoorCallsView.vue'),
          meta: { title: '门口呼叫' },
        },
        {
          path: 'records/calls',
          name: 'call-records',
          component: () => import('@/views/CallRecordsView.vue'),
          meta: { title: '呼叫记录' },
        },
        {
          path: 'records/unlocks',
          name: 'unlock-records',
          component: () => import('@/views/UnlockRecordsView.vue'),
          meta: { title: '开锁记录' },
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
          meta: { title: '操作日志' },
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
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 智慧社区管理平台` : '智慧社区管理平台'
})
