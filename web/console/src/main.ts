import { createApp } from 'vue'
import dayjs from 'dayjs'
// Element Plus's date pickers take the first day of the week from dayjs's
// locale of the same name: zh-cn starts weeks on Monday (一 二 三 … 日).
import 'dayjs/locale/zh-cn'
import App from './App.vue'
import { router } from './router'
import { setAuthHandlers } from './api/client'
import { currentMe, setMe } from './session'
import './styles.css'

dayjs.locale('zh-cn')

setAuthHandlers({
  unauthorized() {
    setMe(null)
    const cur = router.currentRoute.value
    if (cur.name !== 'login') {
      void router.replace({ name: 'login', query: cur.fullPath !== '/' ? { redirect: cur.fullPath } : {} })
    }
  },
  passwordChangeRequired() {
    const me = currentMe()
    if (me) setMe({ ...me, must_change_password: true })
    if (router.currentRoute.value.name !== 'change-password') {
      void router.replace({ name: 'change-password' })
    }
  },
  mustChangePassword() {
    return currentMe()?.must_change_password === true
  },
})

createApp(App).use(router).mount('#app')
